"""The contract for simulators that step one env at a time, and the autoreset runner.

A `CopyEnv` speaks numpy for one copy. `AutoResetCopy` adds what the suite API
promises on top (reset when an episode ends, keep the final observation, episode
statistics) and runs unchanged in-process and inside a subprocess worker, which is
what makes the two vectors give identical results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import gymnasium as gym
import numpy as np

EPISODE_KEYS = ("episode_return", "episode_length")
EPISODE_COST_KEY = "episode_cost"


@dataclass(frozen=True)
class CopySpec:
    """Spaces and capabilities of one copy (no batch dimension)."""

    agents: tuple[str, ...]
    observation_spaces: dict[str, gym.Space]
    action_spaces: dict[str, gym.Space]
    state_space: gym.spaces.Box
    max_episode_steps: int | None = None
    has_costs: bool = False
    has_action_masks: bool = False
    info_keys: tuple[str, ...] = ()

    @property
    def all_info_keys(self) -> tuple[str, ...]:
        """The task's own info keys followed by the episode statistics."""
        cost = (EPISODE_COST_KEY,) if self.has_costs else ()
        return (*self.info_keys, *EPISODE_KEYS, *cost)


@dataclass(slots=True)
class CopyStep:
    """What one copy returns from `reset` or `step`. At reset, reward/cost are zero.

    The arrays are handed over: the copy must not write to them afterwards (return
    fresh arrays, not views of buffers it reuses). `reward`/`cost` are float32, one
    value per agent.
    """

    obs: dict[str, np.ndarray]
    state: np.ndarray
    reward: np.ndarray
    cost: np.ndarray | None = None
    terminated: bool = False
    truncated: bool = False
    action_mask: dict[str, np.ndarray] | None = None
    info: dict[str, float] = field(default_factory=dict)
    # Filled by AutoResetCopy when the episode ended and the copy was reset.
    final_obs: dict[str, np.ndarray] | None = None
    final_state: np.ndarray | None = None
    final_action_mask: dict[str, np.ndarray] | None = None


class CopyEnv(Protocol):
    """One copy of a simulator, numpy in and out."""

    spec: CopySpec

    def reset(self, seed: int | None) -> CopyStep: ...

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep: ...

    def close(self) -> None: ...


class AutoResetCopy:
    """Wraps a `CopyEnv`: resets it when an episode ends and records episode statistics."""

    def __init__(self, env: CopyEnv):
        self.env = env
        self.spec = env.spec
        self._return = 0.0
        self._length = 0
        self._cost = 0.0
        self._nan_info = dict.fromkeys(self.spec.all_info_keys, math.nan)

    def reset(self, seed: int | None) -> CopyStep:
        self._return, self._length, self._cost = 0.0, 0, 0.0
        return self.env.reset(seed)

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        """The copy's step; info keys it leaves out are NaN in the batch (see `_collate`)."""
        step = self.env.step(actions)
        self._return += _mean(step.reward)
        self._length += 1
        if step.cost is not None:
            self._cost += _mean(step.cost)
        if not (step.terminated or step.truncated):
            return step
        info = {**self._nan_info, **step.info}
        info["episode_return"] = self._return
        info["episode_length"] = float(self._length)
        if step.cost is not None:
            info[EPISODE_COST_KEY] = self._cost
        new = self.reset(None)
        new.reward, new.cost = step.reward, step.cost
        new.terminated, new.truncated = step.terminated, step.truncated
        new.final_obs, new.final_state = step.obs, step.state
        new.final_action_mask = step.action_mask
        new.info = info
        return new

    def render(self):
        """An RGB frame of this copy, if the simulator can draw one."""
        render = getattr(self.env, "render", None)
        if render is None:
            raise NotImplementedError(f"{type(self.env).__name__} does not render frames")
        return render()

    def close(self) -> None:
        self.env.close()


def _mean(values: np.ndarray) -> float:
    """Mean over agents; a Python sum is several times cheaper than numpy for a few values."""
    flat = values.tolist()
    return sum(flat) / len(flat)
