"""Object-to-goal tasks: ShadowHandOver and the catch variants.

One object (two for TwoCatch) must reach a goal pose held by the other hand. The reward is
Bi-DexHands' exp(-0.2 (s d + theta)) with d the object-goal distance, theta the rotation
distance and s the task's distance scale; an episode ends early when the object falls below
`fall_height` or a moving base drifts more than `drift_limit` from its mount; success is
d < 0.03 at some step of the episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_conjugate, quat_mul, random_tilt, rotation_distance
from bidexhands.scene import HandMount, Scene, SceneBuilder, yaw_quat
from bidexhands.tasks.base import HandState, Outcome, Task, uniform

# Bi-DexHands' default object: the OpenAI "egg", an ellipsoid, with Isaac Gym's density 500.
EGG = {"type": mujoco.mjtGeom.mjGEOM_ELLIPSOID, "size": [0.03, 0.03, 0.04], "density": 500.0}
EGG_COLOURS = ((0.6, 0.72, 0.98, 1.0), (0.98, 0.72, 0.6, 1.0))
SUCCESS_DISTANCE = 0.03
VEL_SCALE = 0.2


@dataclass
class ObjectToGoal(Task):
    """Objects start at `object_starts` (plus noise) and must reach `goal_starts` poses."""

    name: str
    max_episode_steps: int
    mounts: tuple[HandMount, HandMount]
    object_starts: tuple[tuple[float, float, float], ...]
    goal_starts: tuple[tuple[float, float, float], ...]
    distance_scale: float = 50.0
    fall_height: float = 0.2
    drift_limit: float | None = None
    position_noise: float = 0.01
    dof_noise: float = 0.2
    random_object_rotation: bool = True
    random_goal_rotation: bool = True

    def build(self, builder: SceneBuilder) -> None:
        for i, (start, goal) in enumerate(zip(self.object_starts, self.goal_starts, strict=True)):
            colour = list(EGG_COLOURS[i % 2])
            builder.add_free_object(f"object{i}", pos=start, geoms=[{**EGG, "rgba": colour}])
            builder.add_goal_marker(f"goal{i}", pos=goal, geoms=[{**EGG, "rgba": colour[:3] + [0.4]}])

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        k = len(self.object_starts)
        self._adr = [scene.free_joints[f"object{i}"] for i in range(k)]
        self._vel = [
            (scene.sensors[f"object{i}_linvel"], scene.sensors[f"object{i}_angvel"]) for i in range(k)
        ]
        self._object_start = torch.tensor(self.object_starts, dtype=torch.float32, device=device)
        self._goal_start = torch.tensor(self.goal_starts, dtype=torch.float32, device=device)
        self.goal_pos = self._goal_start.expand(num_envs, k, 3).clone()
        self.goal_quat = torch.zeros(num_envs, k, 4, device=device)
        self.goal_quat[..., 0] = 1.0
        self.device = device

    @property
    def shared_obs_dim(self) -> int:
        return 24 * len(self.object_starts)

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        k, dev = len(ids), self.device
        for i, adr in enumerate(self._adr):
            noise = uniform(generator, (k, 3), dev)
            rot = uniform(generator, (k, 2), dev)
            goal_rot = uniform(generator, (k, 2), dev)
            qpos[:, adr : adr + 3] = self._object_start[i] + self.position_noise * noise
            if self.random_object_rotation:
                qpos[:, adr + 3 : adr + 7] = random_tilt(rot)
            self.goal_pos[ids, i] = self._goal_start[i]
            if self.random_goal_rotation:
                self.goal_quat[ids, i] = random_tilt(goal_rot)

    def object_pose(self, r: Readings, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        adr = self._adr[i]
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def shared_obs(self, r: Readings) -> torch.Tensor:
        parts = []
        for i in range(len(self._adr)):
            pos, quat = self.object_pose(r, i)
            linvel, angvel = (r.sensordata[:, idx] for idx in self._vel[i])
            goal_pos, goal_quat = self.goal_pos[:, i], self.goal_quat[:, i]
            parts += [
                pos,
                quat,
                linvel,
                VEL_SCALE * angvel,
                goal_pos,
                goal_quat,
                quat_mul(quat, quat_conjugate(goal_quat)),
            ]
        return torch.cat(parts, dim=1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        reward = torch.zeros(r.qpos.shape[0], device=r.qpos.device)
        fell = torch.zeros_like(reward, dtype=torch.bool)
        success = torch.ones_like(fell)
        for i in range(len(self._adr)):
            pos, quat = self.object_pose(r, i)
            distance = torch.linalg.vector_norm(self.goal_pos[:, i] - pos, dim=1)
            theta = rotation_distance(quat, self.goal_quat[:, i])
            reward += torch.exp(-0.2 * (self.distance_scale * distance + theta))
            fell |= pos[:, 2] <= self.fall_height
            success &= distance < SUCCESS_DISTANCE
        if self.drift_limit is not None:
            fell |= (hands.base_drift > self.drift_limit).any(dim=1)
        return Outcome(reward=reward, terminated=fell, success=success)


def shadow_hand_over() -> ObjectToGoal:
    """Palms up, facing each other 1 m apart; hand0 throws the egg over to hand1's palm."""
    return ObjectToGoal(
        name="ShadowHandOver",
        max_episode_steps=75,
        mounts=(HandMount((0.0, 0.0, 0.5)), HandMount((0.0, -1.0, 0.5), yaw_quat(math.pi))),
        object_starts=((0.0, -0.39, 0.54),),
        goal_starts=((0.0, -0.64, 0.54),),
    )


def _euler_zyx(roll: float, pitch: float, yaw: float) -> tuple[float, float, float, float]:
    """Isaac Gym's Quat.from_euler_zyx(roll, pitch, yaw) (R = Rz Ry Rx) as MuJoCo wxyz."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    )


def shadow_hand_catch_underarm() -> ObjectToGoal:
    """Palms up 1.15 m apart, moving bases; the egg is tossed underarm to a goal 0.4 m away."""
    return ObjectToGoal(
        name="ShadowHandCatchUnderarm",
        max_episode_steps=75,
        mounts=(
            HandMount((0.0, 0.0, 0.5), movable=True),
            HandMount((0.0, -1.15, 0.5), yaw_quat(math.pi), movable=True),
        ),
        object_starts=((0.0, -0.39, 0.54),),
        goal_starts=((0.0, -0.79, 0.54),),
        fall_height=0.1,
    )


def shadow_hand_catch_over2underarm() -> ObjectToGoal:
    """hand0 stands fingers-up and throws overarm; hand1, palm up, catches below."""
    return ObjectToGoal(
        name="ShadowHandCatchOver2Underarm",
        max_episode_steps=75,
        mounts=(
            HandMount((0.0, 0.0, 0.5), _euler_zyx(1.57 + 0.1, 3.14, 0.0), movable=True),
            HandMount((0.0, -0.8, 0.5), yaw_quat(math.pi), movable=True),
        ),
        object_starts=((0.0, 0.05, 1.0),),
        goal_starts=((0.0, -0.40, 0.55),),
        distance_scale=20.0,
        fall_height=0.3,
        drift_limit=0.1,
    )


def shadow_hand_catch_abreast() -> ObjectToGoal:
    """Hands side by side, tilted towards each other; the egg goes sideways from one to the other."""
    return ObjectToGoal(
        name="ShadowHandCatchAbreast",
        max_episode_steps=150,
        mounts=(
            HandMount((0.0, -0.55, 0.5), _euler_zyx(0.0, 0.3925, -1.57), movable=True),
            HandMount((0.0, -1.15, 0.5), _euler_zyx(0.0, -0.3925, -1.57), movable=True),
        ),
        object_starts=((-0.39, -0.55, 0.54),),
        goal_starts=((-0.39, -1.15, 0.54),),
        fall_height=0.2,
        drift_limit=0.1,
        position_noise=0.0,
        dof_noise=0.0,
    )


def shadow_hand_two_catch_underarm() -> ObjectToGoal:
    """CatchUnderarm with an egg in each palm: both throw and both catch at once."""
    return ObjectToGoal(
        name="ShadowHandTwoCatchUnderarm",
        max_episode_steps=75,
        mounts=(
            HandMount((0.0, 0.0, 0.5), movable=True),
            HandMount((0.0, -1.15, 0.5), yaw_quat(math.pi), movable=True),
        ),
        object_starts=((0.0, -0.39, 0.54), (0.0, -0.76, 0.54)),
        goal_starts=((0.0, -0.79, 0.54), (0.0, -0.36, 0.54)),
        fall_height=0.1,
    )
