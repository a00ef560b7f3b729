"""`StarCraftCopy`: one SMAC or SMACv2 game as a `CopyEnv` (numpy in and out).

It speaks the `smac.env.StarCraft2Env` API (SMACv2's `StarCraftCapabilityEnvWrapper`
has the same methods): observations from `get_obs()`, state from `get_state()`,
masks from `get_avail_actions()`, `step(actions) -> (reward, terminated, info)`.

What SMAC leaves implicit is made explicit here:
- SMAC reports its episode limit as `terminated=True` (with `info["episode_limit"]`
  only under `continuing_episode=True`); the suite calls it truncation: the step
  limit is reached while both teams still have units and the battle was not won.
- SMAC answers a lost connection to the game with `(0, True, {})` after restarting
  it; that cut-off episode is truncated too, and its info values are NaN.
- SMACv2's `reset` can return None (after an internal retry), so observations and
  state are always read with `get_obs()`/`get_state()`.
- The game is seeded when it is launched (`seed=` of the constructor), so a reset
  with a seed relaunches the game with that seed (same seed, same numbers); a reset
  without one continues in the running game. SMACv2 draws its teams and
  start positions from NumPy's global RNG, which is seeded too (one game per process
  under the subprocess vector, so this touches no other copy).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from envs.vector.copy import CopySpec, CopyStep

INFO_KEYS = ("win", "dead_allies", "dead_enemies")


class StarCraftCopy:
    """One game; `factory(**kwargs, seed=...)` builds a `StarCraft2Env`-like object."""

    def __init__(
        self,
        factory: Callable[..., Any],
        kwargs: Mapping[str, Any],
        *,
        seed_global_rng: bool = False,
    ):
        self._factory = factory
        self._kwargs = dict(kwargs)
        self._seed_global_rng = seed_global_rng
        self._seed: int | None = self._kwargs.pop("seed", None)
        self.env = self._build()  # SMAC launches the game at its first reset, not here
        info = self.env.get_env_info()
        self.n_agents = int(info["n_agents"])
        self.n_enemies = int(getattr(self.env, "n_enemies", 0))
        self.episode_limit = int(info["episode_limit"])
        agents = tuple(f"agent_{i}" for i in range(self.n_agents))
        obs_space = gym.spaces.Box(-np.inf, np.inf, (int(info["obs_shape"]),), np.float32)
        self.spec = CopySpec(
            agents=agents,
            observation_spaces=dict.fromkeys(agents, obs_space),
            action_spaces=dict.fromkeys(agents, gym.spaces.Discrete(int(info["n_actions"]))),
            state_space=gym.spaces.Box(-np.inf, np.inf, (int(info["state_shape"]),), np.float32),
            max_episode_steps=self.episode_limit,
            has_action_masks=True,
            info_keys=INFO_KEYS,
        )
        self._steps = 0
        self._launched = False

    def reset(self, seed: int | None) -> CopyStep:
        if seed is not None:
            if self._launched or seed != self._seed:  # the game takes its seed at launch
                self.env.close()
                self._seed = seed
                self.env = self._build()
            if self._seed_global_rng:
                np.random.seed(seed)
                random.seed(seed)
        self.env.reset()  # SMACv2 may return None: read everything explicitly below
        self._launched = True
        self._steps = 0
        return self._observe(reward=0.0, info=dict.fromkeys(INFO_KEYS, math.nan))

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        chosen = [int(actions[a]) for a in self.spec.agents]
        reward, ended, info = self.env.step(chosen)
        self._steps += 1
        won = bool(info.get("battle_won", False))
        if not info:  # the game was restarted after a connection error
            truncated = bool(ended)
            stats = dict.fromkeys(("dead_allies", "dead_enemies"), math.nan)
        else:
            dead_allies, dead_enemies = int(info["dead_allies"]), int(info["dead_enemies"])
            team_wiped = dead_allies >= self.n_agents or (self.n_enemies and dead_enemies >= self.n_enemies)
            timed_out = bool(info.get("episode_limit", False)) or (
                self._steps >= self.episode_limit and not won and not team_wiped
            )
            truncated = bool(ended) and timed_out
            stats = {"dead_allies": float(dead_allies), "dead_enemies": float(dead_enemies)}
        step = self._observe(reward=float(reward), info={"win": float(won) if ended else math.nan, **stats})
        step.terminated = bool(ended) and not truncated
        step.truncated = truncated
        return step

    def close(self) -> None:
        self.env.close()

    def _build(self) -> Any:
        # A fresh copy of the options: SMACv2's wrapper writes into its capability config.
        return self._factory(**copy.deepcopy(self._kwargs), seed=self._seed)

    def _observe(self, *, reward: float, info: dict[str, float]) -> CopyStep:
        obs = np.asarray(self.env.get_obs(), dtype=np.float32)
        masks = np.asarray(self.env.get_avail_actions(), dtype=bool)
        return CopyStep(
            obs={a: obs[i] for i, a in enumerate(self.spec.agents)},
            state=np.asarray(self.env.get_state(), dtype=np.float32),
            reward=np.full(self.n_agents, reward, dtype=np.float32),
            action_mask={a: masks[i] for i, a in enumerate(self.spec.agents)},
            info=info,
        )
