"""ShadowHandSwitch (Bi-DexHands' bidexhands/tasks/shadow_hand_switch.py with
bidexhands/cfg/ShadowHandSwitch.yaml; README "Turn Botton"): each hand presses a rocker switch.

Two copies of upstream's PartNet switch (assets/mjcf/switch/102872/mobility.urdf, meshes x 0.1)
stand fixed on the table at y = +0.2 (hand0's) and -0.2 (hand1's), upright. Each is a 10 x 15 x
10 cm box (link_1) with a 6 x 10 cm rocker on top (link_0) on a hinge along world y at the box's
top (the URDF's joint_0: axis (-1, 0, 0) in link_1, range [0, 0.5585] rad). At 0 the rocker's far
half (world -x) is up; turning it towards 0.5585 presses the far half down and lifts the near
half. The rocker's centre of mass lies 2 cm on the far side of the hinge, so gravity tips it to
0.5585 (the URDF sets no spring or friction and the task no drive).

The button point the reward measures is the rocker's frame + R (-0.05, -0.02, 0): on the
hinge's height, 2 cm towards the hands, so it is lowest (2 x 0.6917 = 1.3834 m for both) with
the near half pressed down (angle 0) and 1.06 cm higher per switch at 0.5585. Published reward:
  r = 2 - f_R - f_L + 50 (1.4 - z_R - z_L)
with z_R, z_L the button points' heights. The episode ends only at the time limit (upstream's
f_R <= 0 never holds); success is 1.4 - z_R - z_L > 0.05, which the rockers' range cannot reach
(at most 0.0166: the published success flag of this task is never set).

Upstream never resets the switches' joints: a rocker keeps its angle into its copy's next
episode. We do the same on auto-reset; env.reset() starts them at 0, as Isaac Gym creates them.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
import torch

from bidexhands.physics import Readings
from bidexhands.scene import OBJECT_BITS, Scene, SceneBuilder
from bidexhands.tasks.articulated import (
    URDF_BASE_TURN,
    ArticulatedTask,
    Inertial,
    add_point,
    articulated_cfg,
    bar,
    box,
)
from bidexhands.tasks.base import HandState, Outcome
from bidexhands.tasks.throw_catch import _euler_zyx

# shadow_hand_switch.py, _create_envs: "object" (hand0's, right) and "switch" (hand1's, left),
# fixed bases, both from_euler_zyx(3.141592, 1.57, 0)
SWITCH_STARTS = ((0.0, 0.2, 0.65), (0.0, -0.2, 0.65))
SWITCH_TURN = _euler_zyx(3.141592, 1.57, 0.0)
TABLE_SIZE = (0.5, 1.0, 0.55)  # create_box(0.5, 1.0, 0.55) at (0, 0, 0.275)
# mobility.urdf joint_0 (link_1 -> link_0): origin, axis, limits
HINGE_ORIGIN = (0.05022849999999996, -0.010858965876808951, 0.041670398045619433)
HINGE_AXIS = (-1.0, 0.0, 0.0)
HINGE_RANGE = (0.0, 0.5585053606381855)
# compute_observations: rigid body 54 (hand0's switch's link_0; 57 for hand1's) + R (0, -0.02, 0)
# + R (-0.05, 0, 0)
BUTTON_POINT = (-0.05, -0.02, 0.0)
# Mesh extents (x 0.1, link_1's frame). link_1: original-7.obj, the box (the screw and plug
# pieces original-1, -2 and -6 hold 4 % of its hull volume and are left out).
FRAME_BOX = ((-0.0523, 0.0502), (-0.0746, 0.0703), (-0.0597, 0.0427))
# link_0, the rocker (original-8, -9, -3, -4): across x, its hull's section in (y, z) is the long
# upper face from the near end to the ridge, a rounded far end, and a flat underside at 0.0427.
TOGGLE_X = (-0.0311, 0.0291)
TOGGLE_FACE = ((-0.0521, 0.0427), (0.0248, 0.0667))  # (y, z) of the long face's ends
TOGGLE_FACE_DEPTH = 0.008  # the plate under that face
TOGGLE_END = ((0.0248, 0.0491), (0.0427, 0.0655))  # (y, z) block of the far end
# density 500 x the convex hulls of link_0's four meshes, in link_0's frame (at the hinge)
TOGGLE_INERTIAL = Inertial(
    0.041705, (-0.051241, 0.021047, 0.0096274), (2.2931e-05, 1.3839e-05, 3.3894e-05, 0.0, 0.0, -1.899e-06)
)
PRESS_OFFSET, SUCCESS_MARGIN, PRESS_SCALE = 1.4, 0.05, 50.0  # compute_hand_reward


@dataclass
class SwitchTask(ArticulatedTask):
    def build_object(self, builder: SceneBuilder) -> None:
        spec = builder.spec
        common = {"contype": OBJECT_BITS, "conaffinity": OBJECT_BITS}
        to_hinge = -np.asarray(HINGE_ORIGIN)  # the rocker's geoms in its own frame, at the hinge
        (y0, z0), (y1, z1) = TOGGLE_FACE
        up = np.array([0.0, -(z1 - z0), y1 - y0]) / np.hypot(y1 - y0, z1 - z0)  # out of the face
        below = to_hinge - TOGGLE_FACE_DEPTH / 2 * up  # the plate lies under the face
        x_mid, half_width = sum(TOGGLE_X) / 2, (TOGGLE_X[1] - TOGGLE_X[0]) / 2
        face = bar(
            np.array([x_mid, y0, z0]) + below,
            np.array([x_mid, y1, z1]) + below,
            (1.0, 0.0, 0.0),
            half_width,
            TOGGLE_FACE_DEPTH / 2,
        )
        end = box((TOGGLE_X, *TOGGLE_END), to_hinge)
        for i, (pos, point) in enumerate(zip(SWITCH_STARTS, ("right_point", "left_point"), strict=True)):
            root = spec.worldbody.add_body(name=f"switch{i}", pos=list(pos), quat=list(SWITCH_TURN))
            frame = root.add_body(name=f"switch{i}_frame", quat=list(URDF_BASE_TURN))
            frame.add_geom(name=f"switch{i}_box", rgba=[0.9, 0.9, 0.88, 1.0], **box(FRAME_BOX), **common)
            rocker = frame.add_body(name=f"switch{i}_rocker", pos=list(HINGE_ORIGIN))
            TOGGLE_INERTIAL.apply(rocker)
            rocker.add_joint(
                name=f"switch{i}_hinge",
                type=mujoco.mjtJoint.mjJNT_HINGE,
                axis=list(HINGE_AXIS),
                range=list(HINGE_RANGE),
                limited=True,
            )
            # drive mode NONE and no DOF properties: no spring, no damping but the asset's
            # default rigid-body angular damping
            builder.damp_like_physx(f"switch{i}_hinge")
            for k, geom in enumerate((face, end)):
                rocker.add_geom(name=f"switch{i}_rocker{k}", rgba=[0.3, 0.3, 0.35, 1.0], **geom, **common)
            add_point(builder, f"switch{i}_rocker", point, BUTTON_POINT)
            # PhysX never collides a link with its parent; MuJoCo's parent filter skips a parent
            # welded to the world, so the pair is excluded by name
            spec.add_exclude(bodyname1=f"switch{i}_frame", bodyname2=f"switch{i}_rocker")

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        model = scene.model
        self._hinge_qpos = [int(model.jnt_qposadr[model.joint(f"switch{i}_hinge").id]) for i in range(2)]
        # the first switch is fixed: its root pose is constant and its velocities zero
        w, x, y, z = SWITCH_TURN
        pose = torch.tensor((*SWITCH_STARTS[0], x, y, z, w), dtype=torch.float32, device=device)
        self._root_block = torch.cat((pose, torch.zeros(6, device=device)))

    def angles(self, r: Readings) -> torch.Tensor:
        """(N, 2): the rockers' hinge angles, hand0's switch first."""
        return r.qpos[:, self._hinge_qpos]

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # env.reset(): the rockers start where Isaac Gym creates them, at 0
        qpos[:, self._hinge_qpos] = 0.0

    def carry_over(self, qpos: torch.Tensor, previous: torch.Tensor) -> None:
        # upstream's reset writes no object dof positions (the dof-state write sends the current
        # values back), so after an episode ends a rocker keeps its angle
        qpos[:, self._hinge_qpos] = previous[:, self._hinge_qpos].to(qpos.dtype)

    def root_block(self, r: Readings) -> torch.Tensor:
        return self._root_block.expand(r.qpos.shape[0], 13)

    def press(self, r: Readings) -> torch.Tensor:
        """(N,): 1.4 - z_R - z_L, the published pressing term before its scale 50."""
        return PRESS_OFFSET - self.points(r)[..., 2].sum(dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        f = self.finger_sums(r)
        press = self.press(r)
        reward = 2.0 - f[:, 0] - f[:, 1] + PRESS_SCALE * press
        terminated = f[:, 0] <= 0.0  # upstream's only early reset, never met in practice
        return Outcome(reward=reward, terminated=terminated, success=press > SUCCESS_MARGIN)


def shadow_hand_switch() -> SwitchTask:
    """Both hands above a table, palms down; each presses the near half of a rocker switch."""
    return SwitchTask(name="ShadowHandSwitch", cfg=articulated_cfg(125), table_size=TABLE_SIZE)
