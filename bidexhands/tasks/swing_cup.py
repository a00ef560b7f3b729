"""ShadowHandSwingCup (Bi-DexHands' bidexhands/tasks/shadow_hand_swing_cup.py with
bidexhands/cfg/ShadowHandSwingCup.yaml): a two-handled mug stands on a small table between the
hands; each hand takes one handle and together they turn the mug half a turn about the vertical.

The mug is upstream's PartNet mug (assets/mjcf/cup/mobility.urdf, meshes x 0.1) rebuilt from
primitives: a 10.4 cm wide body on a foot, 16 cm tall with its lid, a strap handle on each side
(the URDF's link_2 is a second copy of the handle mesh, turned half a turn about the vertical)
and the lid on the URDF's 0-10.8 cm vertical slide. It starts resting on its foot: upstream's
start sinks the foot 8.4 cm into the table, which PhysX resolves in its first substeps.

Published reward, with f_R (f_L) the summed distance of hand0's (hand1's) five finger points to
the handle point 6.2 cm along the mug's +x (6 cm along its -x) and theta the angle between the
mug's orientation and the fixed goal, a yaw of 1.5 pi (the mug starts at yaw pi/2):
  r = -f_R - f_L + (5 / (|theta| + 0.1) - 1) [f_R < 0.4 and f_L < 0.4]
An episode ends early when the mug's root is at or below 0.3 m; success is theta < 0.785.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import rotation_distance
from bidexhands.scene import HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.containers import (
    ContainerTask,
    add_root_velocity,
    at_hull_mass,
    container_cfg,
    geom_bits,
    mesh_point,
    physx_friction,
    strap,
    vertical_cylinder,
)
from bidexhands.tasks.throw_catch import _euler_zyx

CUP_CFG = container_cfg(episode_length=300, rot_reward_scale=5.0, transition_scale=0.1, orientation_scale=0.1)
# shadow_hand_swing_cup.py _create_envs: hand0 (0.35, 0.2, 0.8) from_euler_zyx(3.14159, 1.57,
# 1.57), hand1 (0.35, -0.2, 0.8) from_euler_zyx(3.14159, -1.57, 1.57): fingers towards -x,
# palms facing each other
MOUNTS = (
    HandMount((0.35, 0.2, 0.8), _euler_zyx(3.14159, 1.57, 1.57), movable=True),
    HandMount((0.35, -0.2, 0.8), _euler_zyx(3.14159, -1.57, 1.57), movable=True),
)
PUBLISHED_START = (0.0, 0.0, 0.6)  # object_start_pose, from_euler_zyx(0, 0, 1.57)
CUP_QUAT = _euler_zyx(0.0, 0.0, 1.57)
# reset_target_pose: quat_from_angle_axis(1.5 pi, z) for every copy, never random
GOAL_QUAT = (math.cos(0.75 * math.pi), 0.0, 0.0, math.sin(0.75 * math.pi))
TABLE_HALF = (0.15, 0.15, 0.3)  # create_box(0.3, 0.3, 0.6), fixed, at (0, 0, 0.3)
TABLE_CENTRE = (0.0, 0.0, 0.3)
TABLE_TOP = 0.6
# the mug's shape 0 (link_1's first collision mesh, original-2.obj) has friction 0.5, Isaac
# Gym's default 1 elsewhere (cup_shape_props[0].friction = 0.5)
CUP_SHAPE0_FRICTION = 0.5

# Extents at scale 0.1 (mesh coordinates: y up), from the .obj vertices
BODY_CENTRE = (0.00245, -0.0061)  # mesh (x, z) centre of the body meshes
# the wall is two meshes of one radius: original-2.obj (shape 0) up to 0.054 and new-1.obj up to
# 0.0694; both are kept, overlapping, so that a hand touching the lower wall meets both frictions
WALL = {"radius": 0.0522, "bottom": -0.0689, "top": 0.0694}  # new-1.obj
SHAPE0_TOP = 0.0540  # original-2.obj, same radius and bottom
FOOT = {"radius": 0.0400, "bottom": -0.0843, "top": -0.0582}  # new-0.obj
# Upstream's start puts the root on the table top, the foot 8.4 cm inside the (fixed) table.
# PhysX pushes the mug out in its first substeps (TGS, max_depenetration_velocity 1000); MuJoCo's
# soft contact would throw it 17 cm up, into the fingers, and let it settle after 0.3 s. We
# start it where it comes to rest: on its foot on the table top, upright, at the same yaw.
CUP_START = (PUBLISHED_START[0], PUBLISHED_START[1], TABLE_TOP - FOOT["bottom"])
# original-5.obj, a strap 3 cm wide (mesh x -0.027..0.0025) looping out to mesh z 0.088: a top
# arm, an outer bar and a lower arm, as (z, y) segments with a half thickness
HANDLE_WIDTH = (-0.027, 0.0025)
HANDLE_SEGMENTS = (
    ((0.035, 0.050), (0.081, 0.050), 0.008),
    ((0.081, 0.046), (0.073, -0.012), 0.007),
    ((0.073, -0.012), (0.035, -0.055), 0.007),
)
# link_0 (lid): original-6.obj (disc), original-1.obj (inner disc, inside it), original-4.obj (knob)
LID_DISC = {"radius": 0.054, "bottom": 0.0638, "top": 0.0731, "centre": (-0.0013, -0.0061)}
LID_KNOB = ((-0.0103, 0.0153), (0.0681, 0.0745), (-0.0377, 0.0255))  # x, y, z ranges
# joint_0 (prismatic, link_1 -> link_0): origin (-0.0013, 0, -0.00623), axis (0, 1, 0), [0, 0.108]
LID_JOINT = mesh_point((-0.0013007224518146773, 0.0, -0.006225716369432219))
LID_TRAVEL = 0.1080000000000001
# Upstream's masses: density 500 over each collision shape's convex hull, summed (original-2,
# new-0, new-1, original-5 twice; lid: original-1, -6, -4), from the vertices
BODY_HULL_VOLUME = 9.051e-04 + 1.256e-04 + 9.519e-04 + 2 * 8.596e-05
LID_HULL_VOLUME = 1.721e-05 + 7.635e-05 + 2.387e-06
# compute_observations: right = body 52 (root) + R (0.062, 0, 0); left = body 53 (link_1, at the
# root, its z the root's -x) + R_53 (0, 0, 0.06) = root + R (-0.06, 0, 0)
HANDLE_POINTS = ((0.062, 0.0, 0.0), (-0.06, 0.0, 0.0))
GRIP_SUM, DROP_HEIGHT, SUCCESS_ANGLE = 0.4, 0.3, 0.785


def _handle(turn: float) -> list[dict]:
    """Handle boxes in the root frame: link_1's (turn 1) or link_2's copy (turn -1, half a turn)."""
    y = turn * -sum(HANDLE_WIDTH) / 2
    half_width = (HANDLE_WIDTH[1] - HANDLE_WIDTH[0]) / 2
    geoms = []
    for (z0, y0), (z1, y1), half in HANDLE_SEGMENTS:
        start, end = (-turn * z0, y, y0), (-turn * z1, y, y1)
        geoms.append(strap(start, end, half, half_width))
    return geoms


def cup_geoms() -> list[dict]:
    """The mug body with both handles, in its root frame, at upstream's summed hull mass."""
    x, y, _ = mesh_point((BODY_CENTRE[0], 0.0, BODY_CENTRE[1]))
    white, blue = [0.9, 0.9, 0.88, 1.0], [0.6, 0.72, 0.98, 1.0]
    shape0 = vertical_cylinder(WALL["radius"], WALL["bottom"], SHAPE0_TOP, (x, y), rgba=blue)
    geoms = [
        {**shape0, "friction": physx_friction(CUP_SHAPE0_FRICTION), "priority": 1},
        vertical_cylinder(WALL["radius"], WALL["bottom"], WALL["top"], (x, y), rgba=blue),
        vertical_cylinder(FOOT["radius"], FOOT["bottom"], FOOT["top"], (x, y), rgba=white),
    ]
    geoms += [{**g, "rgba": white} for g in _handle(1.0) + _handle(-1.0)]
    return at_hull_mass(geoms, BODY_HULL_VOLUME)


def lid_geoms() -> list[dict]:
    """The lid in its body frame (at joint_0's origin)."""
    cx, cy, _ = mesh_point((LID_DISC["centre"][0], 0.0, LID_DISC["centre"][1]))
    ox, oy, oz = LID_JOINT
    disc = vertical_cylinder(
        LID_DISC["radius"], LID_DISC["bottom"] - oz, LID_DISC["top"] - oz, (cx - ox, cy - oy)
    )
    (x0, x1), (y0, y1), (z0, z1) = LID_KNOB
    kx, ky, kz = mesh_point(((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2))
    knob = {
        "type": mujoco.mjtGeom.mjGEOM_BOX,
        "size": [(z1 - z0) / 2, (x1 - x0) / 2, (y1 - y0) / 2],
        "pos": [kx - ox, ky - oy, kz - oz],
    }
    return [{**g, "rgba": [0.5, 0.6, 0.85, 1.0]} for g in at_hull_mass([disc, knob], LID_HULL_VOLUME)]


@dataclass
class SwingCup(ContainerTask):
    def build(self, builder: SceneBuilder) -> None:
        builder.add_table(TABLE_HALF, TABLE_CENTRE)
        cup = builder.add_free_object("object0", pos=CUP_START, geoms=cup_geoms())
        cup.quat = list(CUP_QUAT)
        add_root_velocity(builder, "object0")
        lid = cup.add_body(name="cup_lid", pos=list(LID_JOINT))
        lid.add_joint(
            name="lid_slide",
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=[0.0, 0.0, 1.0],
            range=[0.0, LID_TRAVEL],
            limited=True,
        )
        for i, geom in enumerate(lid_geoms()):
            lid.add_geom(name=f"cup_lid_geom{i}", **geom_bits(**geom))
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        model = scene.model
        self._lid = int(model.jnt_qposadr[model.joint("lid_slide").id])
        self.goal_quat = torch.tensor(GOAL_QUAT, device=device).expand(num_envs, 4)

    @property
    def shared_obs_dim(self) -> int:
        return 13 + 3 + 3  # num_obs 417 - 2 x 199

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        self.place_free(qpos, self._adr[0], CUP_START, CUP_QUAT)
        qpos[:, self._lid] = 0.0

    def handles(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3): hand0's (right) handle point, hand1's (left)."""
        return torch.stack([self.point(r, offset) for offset in HANDLE_POINTS], dim=1)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """mug pose 7 | linvel 3 | angvel x 0.2 | right handle point 3 | left handle point 3."""
        return torch.cat((self.root_block(r), self.handles(r).flatten(1)), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        pos, quat = self.object_pose(r)
        fingers = self.finger_sums(r, self.handles(r))
        theta = rotation_distance(quat, self.goal_quat[: quat.shape[0]])
        turn = self.cfg.rot_reward_scale / (theta.abs() + self.cfg.rot_eps) - 1.0
        reward = -fingers.sum(dim=1) + turn * (fingers < GRIP_SUM).all(dim=1).float()
        return Outcome(reward=reward, terminated=pos[:, 2] <= DROP_HEIGHT, success=theta < SUCCESS_ANGLE)


def shadow_hand_swing_cup() -> SwingCup:
    """Hands above a two-handled mug, palms facing, one handle each; they turn it half a turn."""
    return SwingCup(name="ShadowHandSwingCup", cfg=CUP_CFG, mounts=MOUNTS)
