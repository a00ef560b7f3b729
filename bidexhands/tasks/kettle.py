"""ShadowHandKettle ("PourWater"; Bi-DexHands' bidexhands/tasks/shadow_hand_kettle.py with
bidexhands/cfg/ShadowHandKettle.yaml): a kettle and a bucket stand on a table; hand0 takes the
kettle by its handle, hand1 the bucket, and the kettle's spout is brought to the bucket.

The kettle is upstream's PartNet kettle (assets/mjcf/kettle/mobility.urdf, meshes x 0.2) rebuilt
from primitives: a 23 cm wide, 14 cm tall body, a strap handle on its +x side, a spout rising
towards -x and a lid on the URDF's 0-3.2 cm vertical slide. The bucket is PartNet's bucket
100454 (assets/mjcf/bucket/100454/mobility.urdf, meshes x 0.1, its handle commented out
upstream), an open, flared pail of thin walls, 11 cm wide and 10 cm tall.

Published reward, with f_R the summed distance of hand0's five finger points to the handle
point (the kettle root + R (0.15, 0, 0)), f_L that of hand1's to the bucket point (the bucket
root + R (0, 0, -0.1), 4.7 cm under its floor) and d the distance of the spout point (the kettle
root + R (-0.2, 0, 0.07)) to the bucket point:
  r = 1 - f_R - f_L + (0.5 - 2 d) [f_R < 0.7 and f_L < 0.7]
An episode ends early when the bucket point is at or below 0.2 m; success is d < 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.scene import HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.containers import (
    ContainerTask,
    add_root_velocity,
    at_hull_mass,
    capsule,
    container_cfg,
    geom_bits,
    mesh_point,
    strap,
    vertical_cylinder,
)
from bidexhands.tasks.throw_catch import _euler_zyx

KETTLE_CFG = container_cfg(episode_length=125, transition_scale=0.5, orientation_scale=0.1)
# shadow_hand_kettle.py _create_envs: hand0 (0.55, 0.2, 0.6) from_euler_zyx(3.14159, 1.57,
# 1.57), hand1 (0.55, -0.2, 0.6) from_euler_zyx(3.14159, -1.57, 1.57): fingers towards -x,
# palms facing each other
MOUNTS = (
    HandMount((0.55, 0.2, 0.6), _euler_zyx(3.14159, 1.57, 1.57), movable=True),
    HandMount((0.55, -0.2, 0.6), _euler_zyx(3.14159, -1.57, 1.57), movable=True),
)
KETTLE_START = (0.0, 0.0, 0.5)  # object_start_pose, from_euler_zyx(0, 0, 1.57): handle to +y
KETTLE_QUAT = _euler_zyx(0.0, 0.0, 1.57)
BUCKET_START = (0.0, -0.3, 0.5)  # bucket_pose, identity
BUCKET_QUAT = (1.0, 0.0, 0.0, 0.0)
# create_box(0.5, 1.0, 0.4) at (0, 0, 0.2) with a default AssetOptions (a free box upstream)
TABLE_HALF = (0.25, 0.5, 0.2)
TABLE_CENTRE = (0.0, 0.0, 0.2)

# Upstream loads both with VHACD (kettle resolution 4e5, bucket 1e4) and density 500. Their
# meshes are open, double-sided shells, so the decompositions are hollow, of unknown volume:
# we give each part the mass of a 5 mm shell of its mesh area (one side) at density 500.
SHELL = 0.005
KETTLE_AREA = 0.2499 / 2 + 0.0214 / 2 + 0.0278 / 2  # original-1 (body), -2 (handle), -3 (spout)
LID_AREA = 0.0434 / 2  # original-4
BUCKET_AREA = 0.1206 / 2  # original-1 of bucket 100454

# Kettle extents at scale 0.2 (mesh coordinates: y up): the body (original-1.obj) bulges from
# r 0.085 at its base to 0.114 and back to its 0.08 rim; three stacked cylinders follow it
BODY_CENTRE = (0.00265, 0.00125)  # mesh (x, z) centre
BODY_BANDS = ((0.088, -0.0738, -0.055), (0.112, -0.055, 0.025), (0.092, 0.025, 0.0687))  # r, bottom, top
# handle (original-2.obj), a loop on mesh -z (root +x), 2.6 cm wide (mesh x -0.0102..0.0155):
# a top arm and an outer bar running down and back to the body, as (root x, z) segments
HANDLE_WIDTH = (-0.0102, 0.0155)
HANDLE_SEGMENTS = (((0.088, 0.049), (0.160, 0.049)), ((0.163, 0.045), (0.105, -0.035)))
HANDLE_HALF_THICKNESS = 0.006
# spout (original-3.obj): rises from (root x -0.10, z -0.03) to its lip at (-0.19, 0.06),
# mesh x -0.0256..0.0309
SPOUT = ((-0.105, -0.025), (-0.180, 0.055), 0.015)  # start, end (root x, z), radius
SPOUT_WIDTH = (-0.0256, 0.0309)
# lid (original-4.obj): a dome of r 0.074 from y 0.063, a knob of r 0.018 up to 0.105
LID_PARTS = ((0.074, 0.063, 0.071), (0.018, 0.071, 0.105))
LID_TRAVEL = 0.03200000000000003  # joint_0: prismatic, axis (0, 1, 0) (the kettle's up), origin 0
# bucket (original-1.obj): a flared pail, floor r 0.0297 at y -0.0529, rim r 0.0569 at 0.0445
BUCKET_CENTRE = (-0.00109, -0.00174)  # mesh (x, z)
BUCKET_FLOOR, BUCKET_RIM = (0.0297, -0.0529), (0.0569, 0.0445)  # radius, height
BUCKET_STAVES = 8
# compute_observations: handle = body 52 (kettle root) + R (0.15, 0, 0); spout = body 52 +
# R (-0.2, 0, 0.07); bucket point = body 55 (bucket root) + R (0, 0, -0.1)
HANDLE_POINT = (0.15, 0.0, 0.0)
SPOUT_POINT = (-0.2, 0.0, 0.07)
BUCKET_POINT = (0.0, 0.0, -0.1)
GRIP_SUM, DROP_HEIGHT, SUCCESS_DISTANCE = 0.7, 0.2, 0.05


def _y_centre(width: tuple[float, float]) -> float:
    """Root y of a part spanning mesh x `width` (root y = -mesh x)."""
    return -(width[0] + width[1]) / 2


def kettle_geoms() -> list[dict]:
    """The kettle body, handle and spout in its root frame, at the shell mass."""
    x, y, _ = mesh_point((BODY_CENTRE[0], 0.0, BODY_CENTRE[1]))
    steel, black = [0.75, 0.78, 0.8, 1.0], [0.15, 0.15, 0.15, 1.0]
    geoms = [vertical_cylinder(r, lo, hi, (x, y), rgba=steel) for r, lo, hi in BODY_BANDS]
    hy, half_width = _y_centre(HANDLE_WIDTH), (HANDLE_WIDTH[1] - HANDLE_WIDTH[0]) / 2
    for (x0, z0), (x1, z1) in HANDLE_SEGMENTS:
        geoms.append(strap((x0, hy, z0), (x1, hy, z1), HANDLE_HALF_THICKNESS, half_width, rgba=black))
    (sx0, sz0), (sx1, sz1), radius = SPOUT
    sy = _y_centre(SPOUT_WIDTH)
    geoms.append(capsule((sx0, sy, sz0), (sx1, sy, sz1), radius, rgba=steel))
    return at_hull_mass(geoms, SHELL * KETTLE_AREA)


def lid_geoms() -> list[dict]:
    """The lid (its body frame is the kettle's root frame at a closed lid), at the shell mass."""
    x, y, _ = mesh_point((BODY_CENTRE[0], 0.0, BODY_CENTRE[1]))
    geoms = [vertical_cylinder(r, lo, hi, (x, y), rgba=[0.3, 0.3, 0.3, 1.0]) for r, lo, hi in LID_PARTS]
    return at_hull_mass(geoms, SHELL * LID_AREA)


def bucket_geoms() -> list[dict]:
    """A floor disc and flared staves (boxes leaning out), open at the top, at the shell mass."""
    cx, cy, _ = mesh_point((BUCKET_CENTRE[0], 0.0, BUCKET_CENTRE[1]))
    (r0, z0), (r1, z1) = BUCKET_FLOOR, BUCKET_RIM
    red = [0.8, 0.3, 0.25, 1.0]
    geoms = [vertical_cylinder(r0 + SHELL / 2, z0, z0 + SHELL, (cx, cy), rgba=red)]
    z0 += SHELL  # the staves stand on the floor, so only the floor touches the table
    lean = math.atan2(r1 - r0, z1 - z0)
    half_length = math.hypot(r1 - r0, z1 - z0) / 2
    r = (r0 + r1) / 2
    half_width = r * math.tan(math.pi / BUCKET_STAVES)
    for k in range(BUCKET_STAVES):
        theta = 2 * math.pi * k / BUCKET_STAVES
        # Rz(theta) Ry(lean): the box's z runs up the stave, its x through the wall, its y round it
        c, s, cl, sl = math.cos(theta / 2), math.sin(theta / 2), math.cos(lean / 2), math.sin(lean / 2)
        geoms.append(
            {
                "type": mujoco.mjtGeom.mjGEOM_BOX,
                "size": [SHELL / 2, half_width, half_length],
                "pos": [cx + r * math.cos(theta), cy + r * math.sin(theta), (z0 + z1) / 2],
                "quat": [c * cl, -s * sl, c * sl, s * cl],
                "rgba": red,
            }
        )
    return at_hull_mass(geoms, SHELL * BUCKET_AREA)


@dataclass
class Kettle(ContainerTask):
    def build(self, builder: SceneBuilder) -> None:
        builder.add_table(TABLE_HALF, TABLE_CENTRE)
        kettle = builder.add_free_object("object0", pos=KETTLE_START, geoms=kettle_geoms())
        kettle.quat = list(KETTLE_QUAT)
        add_root_velocity(builder, "object0")
        lid = kettle.add_body(name="kettle_lid")
        lid.add_joint(
            name="lid_slide",
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=[0.0, 0.0, 1.0],
            range=[0.0, LID_TRAVEL],
            limited=True,
        )
        for i, geom in enumerate(lid_geoms()):
            lid.add_geom(name=f"kettle_lid_geom{i}", **geom_bits(**geom))
        bucket = builder.add_free_object("bucket", pos=BUCKET_START, geoms=bucket_geoms())
        bucket.quat = list(BUCKET_QUAT)
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        model = scene.model
        self._bucket = scene.free_joints["bucket"]
        self._lid = int(model.jnt_qposadr[model.joint("lid_slide").id])

    @property
    def shared_obs_dim(self) -> int:
        return 13 + 3 + 3  # num_obs 417 - 2 x 199

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        self.place_free(qpos, self._adr[0], KETTLE_START, KETTLE_QUAT)
        self.place_free(qpos, self._bucket, BUCKET_START, BUCKET_QUAT)
        qpos[:, self._lid] = 0.0

    def carry_over(self, qpos: torch.Tensor, previous: torch.Tensor) -> None:
        # upstream's reset writes dof states for the hands only: the lid keeps its place
        qpos[:, self._lid] = previous[:, self._lid].to(qpos.dtype)

    def points(self, r: Readings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """handle point, spout point (both on the kettle root), bucket point (on the bucket root)."""
        return (
            self.point(r, HANDLE_POINT),
            self.point(r, SPOUT_POINT),
            self.point(r, BUCKET_POINT, self._bucket),
        )

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """kettle pose 7 | linvel 3 | angvel x 0.2 | handle point 3 | bucket point 3."""
        handle, _, bucket = self.points(r)
        return torch.cat((self.root_block(r), handle, bucket), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        handle, spout, bucket = self.points(r)
        fingers = self.finger_sums(r, torch.stack((handle, bucket), dim=1))
        pour = torch.linalg.vector_norm(bucket - spout, dim=1)
        near = (fingers < GRIP_SUM).all(dim=1).float()
        reward = 1.0 - fingers.sum(dim=1) + (0.5 - 2.0 * pour) * near
        terminated = bucket[:, 2] <= DROP_HEIGHT
        return Outcome(reward=reward, terminated=terminated, success=pour < SUCCESS_DISTANCE)


def shadow_hand_kettle() -> Kettle:
    """Hands reaching in over a table, palms facing: hand0 lifts the kettle by its handle,
    hand1 the bucket beside it, to pour from the spout into the bucket."""
    return Kettle(name="ShadowHandKettle", cfg=KETTLE_CFG, mounts=MOUNTS)
