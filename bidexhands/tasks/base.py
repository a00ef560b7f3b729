"""What a task defines: its scene, its reset distribution, its shared observation block, and
its reward/termination/success on batched torch state. The env (`bidexhands.env`) does the rest."""

from __future__ import annotations

import abc
from dataclasses import dataclass

import torch

from bidexhands.physics import Readings
from bidexhands.safety import ActionBandCost
from bidexhands.scene import HandMount, Scene, SceneBuilder


@dataclass(frozen=True)
class Published:
    """The `env` block of a task's Bi-DexHands config (bidexhands/cfg/ShadowHand<Task>.yaml).

    Kept whole so that each task states every published number; which of them a reward
    actually reads is said by the task (several are passed to compute_hand_reward unused).
    """

    episode_length: int
    reset_position_noise: float
    reset_rotation_noise: float
    reset_dof_pos_noise: float  # resetDofPosRandomInterval
    reset_dof_vel_noise: float  # resetDofVelRandomInterval
    dist_reward_scale: float
    rot_reward_scale: float
    rot_eps: float
    action_penalty_scale: float
    reach_goal_bonus: float
    fall_distance: float
    fall_penalty: float
    success_tolerance: float
    max_consecutive_successes: int
    object_type: str
    transition_scale: float | None = None  # moving-base force scale (absent for ShadowHandOver)
    orientation_scale: float | None = None  # moving-base torque scale


@dataclass
class Outcome:
    """Per-copy results of one step: the team reward, early termination and success."""

    reward: torch.Tensor  # (N,) float32
    terminated: torch.Tensor  # (N,) bool
    success: torch.Tensor  # (N,) bool


class Task(abc.ABC):
    """One bimanual task; subclasses are dataclasses of its published constants."""

    name: str
    mounts: tuple[HandMount, HandMount]
    cfg: Published  # upstream's cfg/ShadowHand<Task>.yaml values
    # the hand position a moving base observes: upstream's root ("mount") or palm point ("palm")
    hand_point: str = "mount"
    # a safe task's cost on the hands' actions (bidexhands.safety); None: the task has no costs
    safety: ActionBandCost | None = None

    @property
    def max_episode_steps(self) -> int:
        return self.cfg.episode_length

    @property
    def dof_noise(self) -> float:
        """resetDofPosRandomInterval: hand joints start at noise * (lower + (upper - lower) * r)."""
        return self.cfg.reset_dof_pos_noise

    @abc.abstractmethod
    def build(self, builder: SceneBuilder) -> None:
        """Add the task's objects, goal markers and sensors to the two-hand scene."""

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:  # noqa: B027
        """Keep what the task needs from the compiled scene and allocate per-copy state."""

    def carry_over(self, qpos: torch.Tensor, previous: torch.Tensor) -> None:  # noqa: B027
        """On an autoreset, copy into the new episode's start `qpos` (k, nq) what upstream's reset
        never rewrites, from the finished episode's last `previous` qpos (k, nq). Not called by
        `env.reset()`, which starts every copy afresh."""

    @property
    @abc.abstractmethod
    def shared_obs_dim(self) -> int: ...

    @abc.abstractmethod
    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        """Write the object start of copies `ids` into `qpos` (k, nq) and draw their goals."""

    @abc.abstractmethod
    def shared_obs(self, readings: Readings) -> torch.Tensor:
        """The object/goal block every agent sees, (N, shared_obs_dim)."""

    @abc.abstractmethod
    def evaluate(self, readings: Readings, hands: HandState) -> Outcome: ...


class HandState:
    """Per-hand positions a task may need, gathered only when it asks (index 0/1 by hand)."""

    def __init__(
        self,
        sensordata: torch.Tensor,
        sensor_idx: torch.Tensor,
        mount_pos: torch.Tensor,
        actions: torch.Tensor,
    ):
        self._sensordata, self._sensor_idx = sensordata, sensor_idx
        # the step's clipped actions, (N, 2 hands, n_act): for rewards with an action penalty
        self.actions = actions
        self._sensed = sensordata[:, sensor_idx[:, 95:]]  # (N, 2, 10): mount pos, quat, palm pos
        self._mount_pos = mount_pos

    @property
    def fingertip_pos(self) -> torch.Tensor:  # (N, 2, 5, 3)
        tips = self._sensordata[:, self._sensor_idx[:, :65]]
        return tips.view(tips.shape[0], 2, 5, 13)[..., :3]

    @property
    def palm_pos(self) -> torch.Tensor:  # (N, 2, 3)
        return self._sensed[..., 7:10]

    @property
    def base_pos(self) -> torch.Tensor:  # (N, 2, 3)
        return self._sensed[..., :3]

    @property
    def base_drift(self) -> torch.Tensor:  # (N, 2): distance of each base from its mount
        return torch.linalg.vector_norm(self.base_pos - self._mount_pos, dim=-1)


def uniform(generator: torch.Generator, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """U(-1, 1) drawn on the CPU generator (same numbers on every device), moved to `device`."""
    return (2.0 * torch.rand(shape, generator=generator) - 1.0).to(device)
