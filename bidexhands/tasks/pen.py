"""ShadowHandPen (Bi-DexHands' bidexhands/tasks/shadow_hand_pen.py with
bidexhands/cfg/ShadowHandPen.yaml; README "Open PenCap"): the hands pull a pen's cap off.

Upstream's PartNet pen (assets/mjcf/pen/mobility.urdf, meshes x 0.2) lies free on the table
along world y, centred at (0, 0, 0.6), its cap (link_0) towards hand0 (+y). The pen is 0.37 m
long and 2.1 cm thick; the 13 cm cap slides off along the pen's axis on the URDF's prismatic
joint_0 (axis (0, -1, 0) in link_1, range [0, 0.492] m). That range was not scaled with the
meshes: the cap clears the pen's tip after 0.12 m and then rides on, on the pen's axis, up to
0.49 m away, held there by the joint (scaled, 0.098 m, it could never come off).

Points: right = the cap's frame + R (0, -0.1, 0) (on the cap, 10 cm from its joint origin
towards its closed end); left = the pen body's frame + R (0, 0.07, 0). With d = |right - left|
(0.17 m with the cap on), the published reward is
  r = (5 d - 0.8) [f_R < 0.75 and f_L < 0.75] + exp(-10 f_R) + exp(-10 f_L).
An episode ends when f_R or f_L reaches 1.5; success is 5 d > 1.5 (the cap pulled 0.13 m out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.scene import OBJECT_BITS, Scene, SceneBuilder
from bidexhands.tasks.articulated import FreeArticulatedTask, Inertial, add_point, articulated_cfg, box
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.throw_catch import _euler_zyx

PEN_START = (0.0, 0.0, 0.6)  # shadow_hand_pen.py, _create_envs (objectType "pot": no pen lift)
PEN_TURN = _euler_zyx(1.57, 1.57, 0.0)
TABLE_SIZE = (0.5, 1.0, 0.6)  # create_box(0.5, 1.0, 0.6) at (0, 0, 0.3)
# mobility.urdf joint_0 (link_1 -> link_0): prismatic, origin 0, axis, limits (metres, unscaled)
CAP_AXIS = (0.0, -1.0, 0.0)
CAP_RANGE = (0.0, 0.492)
# compute_observations: right = rigid body 54 (the cap) + R (0, -0.1, 0); left = body 53 (the
# pen body) + R (0, 0.07, 0)
CAP_POINT = (0.0, -0.1, 0.0)
BODY_POINT = (0.0, 0.07, 0.0)
# density 500 x the convex hulls of each link's collision meshes, in the link's frame
BODY_INERTIAL = Inertial(
    0.050413, (-0.00025618, 0.026918, -0.0012204), (0.00041914, 2.4197e-06, 0.00041922, 0.0, 0.0, 0.0)
)
CAP_INERTIAL = Inertial(
    0.027476, (-0.0002562, -0.10248, 5.6609e-05), (3.5118e-05, 2.363e-06, 3.4404e-05, 0.0, 0.0, -5.2755e-07)
)
# Mesh extents (x 0.2, link frames; both links' frames coincide at the cap's 0). The pen body
# (original-1, -10, -15, -16, -9; clip strips -12, -13 lie within its radius) is one capsule
# from the tip (y -0.1589) to the end (y 0.2); the cap a capsule over its tube (original-14,
# -11) and a box for the clip on its top (original-17).
BODY_SPAN, BODY_RADIUS = (-0.1589, 0.2), 0.0105
CAP_SPAN, CAP_RADIUS = (-0.1718, -0.0405), 0.0115
CLIP = ((-0.0068, 0.0063), (-0.1487, -0.0496), (0.0102, 0.0232))
# The meshes' axis is x = -0.0003, z = -0.0012. PhysX collides the pen by 24-sided hulls that
# rest on a flat side; round capsules about that axis would roll over, as the clip lifts the
# pen's centre of mass 0.43 mm above it. Our capsules run through the centre of mass instead
# (0.43 mm off the meshes' axis), so that the pen lies still as upstream's does.
AXIS_XZ = tuple(
    (BODY_INERTIAL.mass * b + CAP_INERTIAL.mass * c) / (BODY_INERTIAL.mass + CAP_INERTIAL.mass)
    for b, c in ((BODY_INERTIAL.com[0], CAP_INERTIAL.com[0]), (BODY_INERTIAL.com[2], CAP_INERTIAL.com[2]))
)
NEAR_SUM, LOSE_SUM, SUCCESS_SCALED = 0.75, 1.5, 1.5  # compute_hand_reward


def _capsule(span: tuple[float, float], radius: float) -> dict:
    """A capsule along the pen's axis (link y) filling `span` end to end."""
    x, z = AXIS_XZ
    lo, hi = span[0] + radius, span[1] - radius
    return {"type": mujoco.mjtGeom.mjGEOM_CAPSULE, "size": [radius, 0, 0], "fromto": [x, lo, z, x, hi, z]}


@dataclass
class PenTask(FreeArticulatedTask):
    root_name: ClassVar[str] = "pen"

    def build_object(self, builder: SceneBuilder) -> None:
        common = {"contype": OBJECT_BITS, "conaffinity": OBJECT_BITS, "condim": 4}
        body = self.add_root(builder)
        BODY_INERTIAL.apply(body)
        body.add_geom(
            name="pen_body", rgba=[0.6, 0.72, 0.98, 1.0], **_capsule(BODY_SPAN, BODY_RADIUS), **common
        )
        cap = body.add_body(name="pen_cap")
        CAP_INERTIAL.apply(cap)
        cap.add_joint(
            name="pen_cap_slide",
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=list(CAP_AXIS),
            range=list(CAP_RANGE),
            limited=True,
        )
        # drive mode NONE: the DOF properties' stiffness 1 and damping 0.5 are drive gains and
        # act on nothing; a default asset has no linear damping, so the slide is free
        builder.damp_like_physx("pen_cap_slide")
        cap.add_geom(
            name="pen_cap_tube", rgba=[0.2, 0.25, 0.5, 1.0], **_capsule(CAP_SPAN, CAP_RADIUS), **common
        )
        cap.add_geom(name="pen_cap_clip", rgba=[0.2, 0.25, 0.5, 1.0], **box(CLIP), **common)
        add_point(builder, "pen_cap", "right_point", CAP_POINT)
        add_point(builder, "pen_link1", "left_point", BODY_POINT)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._slide = int(scene.model.jnt_qposadr[scene.model.joint("pen_cap_slide").id])

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        self.place_root(qpos)
        qpos[:, self._slide] = 0.0  # the cap on (object_dof_pos 0, velocity 0)

    def cap_travel(self, r: Readings) -> torch.Tensor:
        """(N,): how far the cap has slid off (m)."""
        return r.qpos[:, self._slide]

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        points = self.points(r)
        spread = 5.0 * torch.linalg.vector_norm(points[:, 0] - points[:, 1], dim=-1)
        near = (f < NEAR_SUM).all(dim=1)
        right, left = torch.exp(-10.0 * f[:, 0]), torch.exp(-10.0 * f[:, 1])
        reward = torch.where(near, spread - 0.8, torch.zeros_like(spread)) + right + left
        # upstream's first reset test reads exp(-10 f_R) <= 0: true only once it underflows
        terminated = (right <= 0.0) | (f >= LOSE_SUM).any(dim=1)
        return Outcome(reward=reward, terminated=terminated, success=spread > SUCCESS_SCALED)


def shadow_hand_pen() -> PenTask:
    """A pen on a table between the hands, cap towards hand0: hand0 pulls the cap, hand1 holds."""
    return PenTask(
        name="ShadowHandPen",
        cfg=articulated_cfg(125),
        table_size=TABLE_SIZE,
        start_pos=PEN_START,
        start_quat=PEN_TURN,
    )
