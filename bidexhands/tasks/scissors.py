"""ShadowHandScissors (Bi-DexHands' bidexhands/tasks/shadow_hand_scissors.py with
bidexhands/cfg/ShadowHandScissors.yaml; README "Open Scissors"): the hands open a pair of scissors.

Upstream's PartNet scissors (assets/mjcf/scissors/10495/mobility.urdf, meshes x 0.3) lie flat
and free on the table at (0, 0, 0.6), blades towards -x, finger loops towards the hands: link_1's
loop on hand1's side (-y), link_0's on hand0's (+y). link_0 turns about the pivot on the URDF's
joint_0: axis (0, 1, 0) in link_1 (vertical here), origin (-0.0698, 0, 0.0034) (the PartNet
origin scaled by hand to the meshes' 0.3), range [-0.597, 0.4] rad; -0.597 is shut. Each
episode starts nearly shut, at -0.59.

Points: right = link_0's frame (at the pivot) + R (0.2, 0, -0.1), in its loop; left = link_1's
frame + R (0.15, 0, 0.1), in the other loop. With q the joint angle, the published reward is
  r = 2 + 5 (0.59 + q) [f_R < 0.7 and f_L < 0.7] - f_R - f_L.
An episode ends when f_R or f_L reaches 1.75 (upstream's other test, 5 (0.59 + q) < -0.5, cannot
hold in the joint's range); success is q > -0.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np
import torch

from bidexhands.physics import Readings
from bidexhands.scene import OBJECT_BITS, Scene, SceneBuilder
from bidexhands.tasks.articulated import FreeArticulatedTask, Inertial, add_point, articulated_cfg, bar, box
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.throw_catch import _euler_zyx

SCISSORS_START = (0.0, 0.0, 0.6)  # shadow_hand_scissors.py, _create_envs
SCISSORS_TURN = _euler_zyx(0.0, 0.0, 1.57)
TABLE_SIZE = (0.5, 1.0, 0.6)  # create_box(0.5, 1.0, 0.6) at (0, 0, 0.3)
# mobility.urdf joint_0 (link_1 -> link_0): revolute, origin, axis, limits
PIVOT = (-0.0698251662, 0.0, 0.0034203225936)
PIVOT_AXIS = (0.0, 1.0, 0.0)
PIVOT_RANGE = (-0.5969026041820605, 0.4)
START_ANGLE = -0.59  # reset: object_dof_pos -0.59, velocity 0
# compute_observations: right = rigid body 54 (link_0) + R (0.2, 0, -0.1); left = body 53
# (link_1) + R (0.15, 0, 0.1)
RIGHT_POINT = (0.2, 0.0, -0.1)
LEFT_POINT = (0.15, 0.0, 0.1)
# Mesh extents (x 0.3, link_1's frame at q = 0, where the blades stand 40 degrees apart). The
# scissors lie in the (x, z) plane, y across their thickness. Per leg: the blade, a tapering
# sliver from the pivot to its tip, as a bar along its middle; the finger loop's convex hull
# (PhysX collides it solid), as a box over the loop and a bar along its neck to the pivot.
# Each part: ((x, z) start, (x, z) end, half width in the plane) or an (x, z) box, and y range.
LINK1_BLADE = ((-0.0200, 0.0160), (-0.3036, -0.0550), 0.0120, (-0.0052, 0.0001))  # new-3.obj
LINK1_LOOP = ((0.0632, 0.1791), (0.0510, 0.1326), (-0.0078, 0.0041))  # original-3.obj
LINK1_NECK = ((-0.0360, 0.0270), (0.0800, 0.0750), 0.0150, (-0.0078, 0.0041))
LINK0_BLADE = ((-0.0150, -0.0250), (-0.2895, 0.0797), 0.0120, (0.0001, 0.0054))  # new-1.obj
LINK0_LOOP = ((0.0602, 0.1782), (-0.1464, -0.0642), (-0.0039, 0.0080))  # original-6.obj
LINK0_NECK = ((-0.0309, -0.0265), (0.0800, -0.0800), 0.0150, (-0.0039, 0.0080))
# density 500 x the convex hulls of each link's collision meshes, link_1's in its frame, link_0's
# in its own (at the pivot)
LINK1_INERTIAL = Inertial(
    0.10392,
    (0.037875, -0.0018912, 0.059852),
    (0.00020464, 0.0012274, 0.0010248, -7.5675e-07, -0.00040212, -3.4126e-07),
)
LINK0_INERTIAL = Inertial(
    0.10389,
    (0.10981, 0.0021112, -0.069728),
    (0.00028226, 0.0012346, 0.00095435, 1.0151e-06, 0.00047114, -5.6453e-07),
)
NEAR_SUM, LOSE_SUM, OPEN_SCALE, SUCCESS_ANGLE = 0.7, 1.75, 5.0, -0.3  # compute_hand_reward


def _leg(blade, loop, neck, offset) -> list[dict]:
    """One leg's geoms in its link's frame, `offset` added to the mesh coordinates."""
    geoms = []
    for (x0, z0), (x1, z1), half, (y0, y1) in (blade, neck):
        y = (y0 + y1) / 2
        p0, p1 = np.array([x0, y, z0]) + offset, np.array([x1, y, z1]) + offset
        geoms.append(bar(p0, p1, (0.0, 1.0, 0.0), (y1 - y0) / 2, half))
    (xs, zs, ys) = loop
    geoms.append(box((xs, ys, zs), offset))
    return geoms


@dataclass
class ScissorsTask(FreeArticulatedTask):
    root_name: ClassVar[str] = "scissors"

    def build_object(self, builder: SceneBuilder) -> None:
        common = {"contype": OBJECT_BITS, "conaffinity": OBJECT_BITS, "condim": 4}
        steel, grip = [0.75, 0.75, 0.8, 1.0], [0.85, 0.3, 0.25, 1.0]
        link1 = self.add_root(builder)
        LINK1_INERTIAL.apply(link1)
        for k, geom in enumerate(_leg(LINK1_BLADE, LINK1_LOOP, LINK1_NECK, np.zeros(3))):
            link1.add_geom(name=f"scissors_leg1_{k}", rgba=steel if k == 0 else grip, **geom, **common)
        link0 = link1.add_body(name="scissors_link0", pos=list(PIVOT))
        LINK0_INERTIAL.apply(link0)
        link0.add_joint(
            name="scissors_pivot",
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=list(PIVOT_AXIS),
            range=list(PIVOT_RANGE),
            limited=True,
        )
        # drive mode NONE and the URDF's DOF properties (no spring, no damping): the targets of
        # -0.59 upstream sends act on nothing; the asset's default angular damping remains
        builder.damp_like_physx("scissors_pivot")
        for k, geom in enumerate(_leg(LINK0_BLADE, LINK0_LOOP, LINK0_NECK, -np.asarray(PIVOT))):
            link0.add_geom(name=f"scissors_leg0_{k}", rgba=steel if k == 0 else grip, **geom, **common)
        add_point(builder, "scissors_link0", "right_point", RIGHT_POINT)
        add_point(builder, "scissors_link1", "left_point", LEFT_POINT)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._pivot = int(scene.model.jnt_qposadr[scene.model.joint("scissors_pivot").id])

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        self.place_root(qpos)
        qpos[:, self._pivot] = START_ANGLE

    def angle(self, r: Readings) -> torch.Tensor:
        """(N,): the pivot angle q (upstream's object_dof_pos[:, 0])."""
        return r.qpos[:, self._pivot]

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        q = self.angle(r)
        opened = OPEN_SCALE * (0.59 + q)
        near = (f < NEAR_SUM).all(dim=1)
        up = torch.where(near, opened, torch.zeros_like(opened))
        reward = 2.0 + up - f[:, 0] - f[:, 1]
        terminated = (up < -0.5) | (f >= LOSE_SUM).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=q > SUCCESS_ANGLE)


def shadow_hand_scissors() -> ScissorsTask:
    """Scissors lying shut on a table between the hands: each hand takes a loop and opens them."""
    return ScissorsTask(
        name="ShadowHandScissors",
        cfg=articulated_cfg(150),
        table_size=TABLE_SIZE,
        start_pos=SCISSORS_START,
        start_quat=SCISSORS_TURN,
    )
