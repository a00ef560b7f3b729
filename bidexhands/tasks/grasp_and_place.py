"""ShadowHandGraspAndPlace (Bi-DexHands' bidexhands/tasks/shadow_hand_grasp_and_place.py with
bidexhands/cfg/ShadowHandGraspAndPlace.yaml): a bucket and a 5 cm cube stand on a table under two
palm-down hands on moving bases; hand0 (above the bucket) and hand1 (above the cube) must bring
the cube into the bucket.

Reward as published, with f_R the sum of hand0's five finger-point distances (distal bodies + 2 cm
along their z) to the bucket's link point, f_L that of hand1's to the cube, and b the
bucket-cube distance:
  r = exp(-10 f_R) + exp(-10 f_L) + 2 exp(-10 b)
An episode ends early when f_R or f_L reaches 1.5; success is b < 0.2 at some step. The config's
goal (-0.3, 0, 0.6) is computed upstream but read by neither the reward nor the observation.

The bucket is upstream's PartNet bucket 100454 (assets/mjcf/bucket/100454/mobility.urdf; its
handle link is commented out, so it is one rigid body) rebuilt from primitives to its body
mesh's extents (original-1.obj x 0.1, turned by the URDF's fixed joint): an open-top frustum
9.7 cm tall, radius 3.0 cm at the foot and 5.7 cm at the rim, with a solid base up to 3.4 cm and
a 5 mm wall (a cylinder and eight slanted boxes), density 500.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_mul, to_xyzw
from bidexhands.scene import HandMount, Scene, SceneBuilder, finger_point_index
from bidexhands.tasks.base import HandState, Outcome, Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg, _euler_zyx

GRASP_CFG = _catch_cfg(  # C/ShadowHandGraspAndPlace.yaml env block (C:4-43)
    episode_length=500,
    reset_position_noise=0.0,
    reset_dof_pos_noise=0.0,
    dist_reward_scale=20.0,
    fall_distance=0.4,
    object_type="pot",  # as the cfg names it; the task maps "pot" to mjcf/bucket/100454 (T:119)
    transition_scale=0.5,
    orientation_scale=0.1,
)
# T:423-429: both hands palm down at x = 0.55, fingers towards -x
HAND_EULER = (3.14159, 0.0, 1.57)
# T:413, 454-456: gymapi.create_box(1.0, 1.0, 0.6) at (0, 0, 0.3), top at z = 0.6
TABLE_HALF = (0.5, 0.5, 0.3)
TABLE_CENTRE = (0.0, 0.0, 0.3)
BUCKET_START = (0.0, 0.2, 0.6)  # T:431-433, identity rotation
CUBE_START = (0.0, -0.2, 0.6)  # T:436-438
CUBE_EULER = (1.57, 1.57, 0.0)  # from_euler_zyx(1.57, 1.57, 0)
# mobility.urdf joint_1 (base -> link_1, the bucket body): origin 0, rpy (pi/2, 0, -pi/2). The
# reward and the observation read rigid body 53, link_1: the root's position, rotation turned by this.
LINK_QUAT = _euler_zyx(math.pi / 2, 0.0, -math.pi / 2)
# cube_multicolor1.urdf: a 5 cm box with a non-standard <inertial><density value="567.0"/>;
# the task's AssetOptions density 500 (T:375) is taken to apply, as the sibling cube tasks do.
CUBE_HALF = 0.025
CUBE_DENSITY = 500.0
BUCKET_DENSITY = 500.0  # object_asset_options.density (T:375); the URDF has no inertial
# Bucket body mesh (original-1.obj x 0.1) in the bucket's root frame: an axis near (0.0017,
# 0.0011); outer surface from radius 0.030 at the foot (z = -0.0529) to 0.057 at the rim
# (z = 0.044); cavity from radius 0.034 on its floor (z = -0.019) to 0.052 at the rim.
BUCKET_AXIS = (0.0017, 0.0011)
BUCKET_FOOT, BUCKET_FLOOR, BUCKET_RIM = -0.0529, -0.019, 0.044
FOOT_RADIUS, FLOOR_RADIUS, RIM_INNER, RIM_OUTER = 0.030, 0.034, 0.052, 0.057
WALL_PANELS = 8
LOSE_SUM = 1.5  # T:1408-1409
SUCCESS_DISTANCE = 0.2  # T:1412-1413


def _bucket_geoms() -> list[dict]:
    """The bucket's solid base (a cylinder) and its wall (slanted boxes round the cavity)."""
    colour = [0.55, 0.6, 0.65, 1.0]
    cx, cy = BUCKET_AXIS
    slope = (RIM_OUTER - FOOT_RADIUS) / (BUCKET_RIM - BUCKET_FOOT)  # outer radius per metre of z

    def outer(z: float) -> float:
        return FOOT_RADIUS + slope * (z - BUCKET_FOOT)

    base_radius = (FOOT_RADIUS + outer(BUCKET_FLOOR)) / 2
    geoms: list[dict] = [
        {
            "type": mujoco.mjtGeom.mjGEOM_CYLINDER,
            "size": [base_radius, (BUCKET_FLOOR - BUCKET_FOOT) / 2, 0],
            "pos": [cx, cy, (BUCKET_FLOOR + BUCKET_FOOT) / 2],
            "rgba": colour,
        }
    ]
    height = BUCKET_RIM - BUCKET_FLOOR
    bottom = (FLOOR_RADIUS + outer(BUCKET_FLOOR)) / 2  # wall mid-line radius at the floor
    top = (RIM_INNER + RIM_OUTER) / 2  # and at the rim
    tilt = math.atan2(top - bottom, height)  # outwards from vertical
    thickness = (RIM_OUTER - RIM_INNER) * math.cos(tilt)
    mid = (top + bottom) / 2
    half_width = top * math.tan(math.pi / WALL_PANELS)  # the panels close the polygon at the rim
    for k in range(WALL_PANELS):
        phi = 2 * math.pi * k / WALL_PANELS
        # panel frame: x along the bucket's radius, y along the rim, z up the wall leaning out
        quat = list(_euler_zyx(0.0, tilt, phi))
        geoms.append(
            {
                "type": mujoco.mjtGeom.mjGEOM_BOX,
                "size": [thickness / 2, half_width, height / (2 * math.cos(tilt))],
                "pos": [
                    cx + mid * math.cos(phi),
                    cy + mid * math.sin(phi),
                    (BUCKET_FLOOR + BUCKET_RIM) / 2,
                ],
                "quat": quat,
                "rgba": colour,
            }
        )
    return [{**g, "density": BUCKET_DENSITY} for g in geoms]


@dataclass
class GraspAndPlace(Task):
    name: str
    cfg: Published
    mounts: tuple[HandMount, HandMount]
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)

    def build(self, builder: SceneBuilder) -> None:
        # upstream's table is a free box made with default asset options (T:421), hundreds of kg
        # on the ground plane: a static box here
        builder.add_table(TABLE_HALF, TABLE_CENTRE)
        builder.add_free_object("object0", pos=BUCKET_START, geoms=_bucket_geoms())
        cube = {
            "type": mujoco.mjtGeom.mjGEOM_BOX,
            "size": [CUBE_HALF] * 3,
            "density": CUBE_DENSITY,
            "rgba": [0.98, 0.6, 0.72, 1.0],
        }
        body = builder.add_free_object("object1", pos=CUBE_START, geoms=[cube])
        body.quat = list(_euler_zyx(*CUBE_EULER))
        # the root-state linear velocity upstream observes is the root link's (its frame origin)
        builder.add_sensor(
            "object0_origin_linvel",
            mujoco.mjtSensor.mjSENS_FRAMELINVEL,
            mujoco.mjtObj.mjOBJ_XBODY,
            "object0",
        )
        builder.add_finger_points()  # T:725-755: distal bodies 7, 11, 15, 20, 25 + R (0, 0, 0.02)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        self._adr = [scene.free_joints["object0"], scene.free_joints["object1"]]
        self._linvel = scene.sensors["object0_origin_linvel"]
        self._angvel = scene.sensors["object0_angvel"]
        self._fingers = torch.as_tensor(finger_point_index(scene), device=device)  # (2 hands, 5 fingers, 3)
        self._link_quat = torch.tensor(LINK_QUAT, dtype=torch.float32, device=device)
        self._starts = [
            torch.tensor((*BUCKET_START, 1.0, 0.0, 0.0, 0.0), dtype=torch.float32, device=device),
            torch.tensor((*CUBE_START, *_euler_zyx(*CUBE_EULER)), dtype=torch.float32, device=device),
        ]

    @property
    def shared_obs_dim(self) -> int:
        return 27

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # noise 0 and no rotation (T:1039-1047): the bucket and the cube at their start poses
        for adr, start in zip(self._adr, self._starts, strict=True):
            qpos[:, adr : adr + 7] = start.to(qpos.dtype)

    def object_pose(self, r: Readings, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Root position and (w, x, y, z) quaternion of the bucket (0) or the cube (1)."""
        adr = self._adr[i]
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def bucket_link(self, r: Readings) -> tuple[torch.Tensor, torch.Tensor]:
        """Upstream's block_right_handle: the bucket body's link frame (rigid body 53)."""
        pos, quat = self.object_pose(r, 0)
        return pos, quat_mul(quat, self._link_quat.expand_as(quat))

    def finger_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 5, 3): each hand's five finger points."""
        return r.sensordata[:, self._fingers]

    def finger_sums(self, r: Readings) -> torch.Tensor:
        """(N, 2): f_R (hand0's fingers to the bucket) and f_L (hand1's to the cube)."""
        targets = torch.stack((self.bucket_link(r)[0], self.object_pose(r, 1)[0]), dim=1)
        return torch.linalg.vector_norm(self.finger_pos(r) - targets.unsqueeze(2), dim=-1).sum(dim=-1)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """bucket root pose 7 | linvel 3 | angvel x 0.2 | bucket link pos 3, quat 4 | cube pos 3,
        quat 4 (quaternions x, y, z, w)."""
        pos, quat = self.object_pose(r, 0)
        link_pos, link_quat = self.bucket_link(r)
        cube_pos, cube_quat = self.object_pose(r, 1)
        return torch.cat(
            (
                pos,
                to_xyzw(quat),
                r.sensordata[:, self._linvel],
                VEL_SCALE * r.sensordata[:, self._angvel],
                link_pos,
                to_xyzw(link_quat),
                cube_pos,
                to_xyzw(cube_quat),
            ),
            dim=1,
        )

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        gap = torch.linalg.vector_norm(self.bucket_link(r)[0] - self.object_pose(r, 1)[0], dim=1)
        reward = torch.exp(-10.0 * f).sum(dim=1) + 2.0 * torch.exp(-10.0 * gap)
        # upstream also resets where exp(-10 f_R) <= 0, which f_R >= 1.5 always precedes
        terminated = (f >= LOSE_SUM).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=gap < SUCCESS_DISTANCE)


def shadow_hand_grasp_and_place() -> GraspAndPlace:
    """Palm-down hands on moving bases above a bucket (hand0) and a cube (hand1) on a table; the
    cube goes into the bucket."""
    return GraspAndPlace(
        name="ShadowHandGraspAndPlace",
        cfg=GRASP_CFG,
        mounts=(
            HandMount((0.55, 0.2, 0.8), _euler_zyx(*HAND_EULER), movable=True),
            HandMount((0.55, -0.2, 0.8), _euler_zyx(*HAND_EULER), movable=True),
        ),
    )
