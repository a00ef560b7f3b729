"""The four double-door tasks: both hands open (or close) a two-leaf door by its handles,
pushing it away (Inward) or pulling it towards them (Outward).

Published reward, with f_R, f_L the sums of hand0's and hand1's five fingertip-to-handle
distances and s the handles' separation along y:
  opening  r = 2 - f_R - f_L + 2 s [f_R < 0.5 and f_L < 0.5]
  closing  r = 2 - f_R - f_L + 2 (1 - s) [f_R < 0.5 and f_L < 0.5]   (our form of "s shrinking")
An episode ends early when f_R or f_L reaches 1.5; success is s passing 0.5 (above when
opening, below when closing).

The door is ours, built with MjSpec to the size of Bi-DexHands' PartNet door (two 0.42 m leaves
on vertical hinges), with box handles 5 cm from the centre line; its mesh is not used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.scene import OBJECT_BITS, HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome, Task

HINGE_Y = 0.42  # hinges of the two leaves at y = +-0.42 (hand0's leaf on +y)
LEAF_HALF = (0.01, 0.205, 0.4)  # thickness, width, height
DOOR_CENTRE_Z = 0.6
HANDLE_FROM_HINGE, HANDLE_PROUD = 0.37, 0.045
GRIP_SUM, LOSE_SUM, SUCCESS_SEPARATION = 0.5, 1.5, 0.5
LEAF_DAMPING = 1.0


@dataclass
class DoorTask(Task):
    name: str
    mounts: tuple[HandMount, HandMount]
    inward: bool  # the leaves swing away from the hands (pushed) rather than towards them (pulled)
    closing: bool  # start open (at `start_angle`) and close, rather than start closed and open
    start_angle: float = 0.0
    max_episode_steps: int = 250
    dof_noise: float = 0.0
    camera_azimuth: float = 150.0  # renders look at the door from behind the hands

    def build(self, builder: SceneBuilder) -> None:
        spec = builder.spec
        for y in (HINGE_Y + 0.03, -HINGE_Y - 0.03):  # frame posts, which the leaves hang on
            builder.add_static(
                f"post{'+' if y > 0 else '-'}",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[0.03, 0.02, LEAF_HALF[2] + 0.2],
                pos=[0.0, y, LEAF_HALF[2] + 0.2],
                rgba=[0.4, 0.3, 0.2, 1.0],
            )
        for i, side in enumerate((1.0, -1.0)):
            leaf = spec.worldbody.add_body(name=f"leaf{i}", pos=[0.0, side * HINGE_Y, DOOR_CENTRE_Z])
            low, high = self._range(side)
            leaf.add_joint(
                name=f"hinge{i}",
                type=mujoco.mjtJoint.mjJNT_HINGE,
                axis=[0.0, 0.0, 1.0],
                range=[low, high],
                limited=True,
                damping=[LEAF_DAMPING] * 3,
                armature=0.01,
            )
            leaf.add_geom(
                name=f"leaf{i}_panel",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=list(LEAF_HALF),
                pos=[0.0, -side * LEAF_HALF[1], 0.0],
                density=300.0,
                rgba=[0.75, 0.8, 0.85, 1.0],
                contype=OBJECT_BITS,
                conaffinity=OBJECT_BITS,
            )
            handle = [HANDLE_PROUD, -side * HANDLE_FROM_HINGE, 0.0]
            leaf.add_geom(
                name=f"leaf{i}_handle",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[0.01, 0.01, 0.07],
                pos=handle,
                density=300.0,
                rgba=[0.2, 0.2, 0.2, 1.0],
                contype=OBJECT_BITS,
                conaffinity=OBJECT_BITS,
            )
            leaf.add_geom(  # the bar that holds the handle off the leaf
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[HANDLE_PROUD / 2, 0.008, 0.008],
                pos=[HANDLE_PROUD / 2, -side * HANDLE_FROM_HINGE, 0.0],
                density=300.0,
                rgba=[0.2, 0.2, 0.2, 1.0],
                contype=0,
                conaffinity=0,
            )
            leaf.add_site(name=f"handle{i}", pos=handle, size=[0.01, 0, 0])
            builder.add_sensor(
                f"handle{i}_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, mujoco.mjtObj.mjOBJ_SITE, f"handle{i}"
            )

    def _range(self, side: float) -> tuple[float, float]:
        """Hinge range of the leaf on `side`: a positive angle on the +y leaf swings it towards +x."""
        towards_hands = side > 0  # which sign of angle moves this leaf's free edge to +x
        opens_positive = towards_hands != self.inward
        return (0.0, math.pi / 2) if opens_positive else (-math.pi / 2, 0.0)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        model = scene.model
        self._hinge_qpos = [int(model.jnt_qposadr[model.joint(f"hinge{i}").id]) for i in range(2)]
        self._hinge_dof = [int(model.jnt_dofadr[model.joint(f"hinge{i}").id]) for i in range(2)]
        self._handles = [scene.sensors[f"handle{i}_pos"] for i in range(2)]
        self._open_sign = [1.0 if self._range(side)[1] > 0 else -1.0 for side in (1.0, -1.0)]

    @property
    def shared_obs_dim(self) -> int:
        return 2 + 2 + 6

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        for adr, sign in zip(self._hinge_qpos, self._open_sign, strict=True):
            qpos[:, adr] = sign * self.start_angle

    def handle_pos(self, r: Readings) -> torch.Tensor:  # (N, 2, 3)
        return torch.stack([r.sensordata[:, sl] for sl in self._handles], dim=1)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        angles = r.qpos[:, self._hinge_qpos]
        speeds = r.qvel[:, self._hinge_dof]
        return torch.cat((angles, 0.2 * speeds, self.handle_pos(r).flatten(1)), dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        handles = self.handle_pos(r)
        f = torch.linalg.vector_norm(hands.fingertip_pos - handles.unsqueeze(2), dim=-1).sum(dim=-1)  # (N, 2)
        separation = (handles[:, 0, 1] - handles[:, 1, 1]).abs()
        near = (f < GRIP_SUM).all(dim=1).float()
        progress = (1.0 - separation) if self.closing else separation
        reward = 2.0 - f.sum(dim=1) + 2.0 * progress * near
        terminated = (f >= LOSE_SUM).any(dim=1)
        success = separation < SUCCESS_SEPARATION if self.closing else separation > SUCCESS_SEPARATION
        return Outcome(reward=reward, terminated=terminated, success=success)


def _facing_door(x: float) -> tuple[HandMount, HandMount]:
    """Hands pointing at the door (fingers along -x), palms facing each other, 0.4 m apart."""
    from bidexhands.tasks.throw_catch import _euler_zyx

    return (
        HandMount((x, 0.2, 0.6), _euler_zyx(math.pi, 1.57, 1.57), movable=True),
        HandMount((x, -0.2, 0.6), _euler_zyx(math.pi, -1.57, 1.57), movable=True),
    )


def shadow_hand_door_open_inward() -> DoorTask:
    return DoorTask("ShadowHandDoorOpenInward", _facing_door(0.55), inward=True, closing=False)


def shadow_hand_door_open_outward() -> DoorTask:
    return DoorTask("ShadowHandDoorOpenOutward", _facing_door(0.55), inward=False, closing=False)


def shadow_hand_door_close_inward() -> DoorTask:
    """The door starts 80 degrees open, away from the hands, which reach into the doorway."""
    return DoorTask(
        "ShadowHandDoorCloseInward",
        _facing_door(0.20),
        inward=True,
        closing=True,
        start_angle=math.radians(80),
    )


def shadow_hand_door_close_outward() -> DoorTask:
    """The door starts 60 degrees open, towards the hands, which stand back to meet its handles."""
    return DoorTask(
        "ShadowHandDoorCloseOutward",
        _facing_door(0.75),
        inward=False,
        closing=True,
        start_angle=math.radians(60),
    )
