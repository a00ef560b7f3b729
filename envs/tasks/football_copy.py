"""`FootballCopy`: one Google Research Football game as a `CopyEnv` (numpy in and out).

gfootball speaks the old gym API (`reset() -> obs`, `step -> obs, reward, done, info`)
and controls several left players from one env, so one game is one copy with one
suite agent per controlled player.

- Team reward: every agent gets the mean of gfootball's per-player rewards; with
  `rewards="scoring"` they are all equal (+1 for a goal, -1 for one conceded), and
  `"scoring,checkpoints"` adds the checkpoint shaping.
- Termination vs truncation: academy scenarios end on a goal, a lost ball or the
  ball going out (terminated) or after `game_duration + 1` steps without a goal on
  the last one (truncated: a time limit on an unfinished attack). Full games end when
  the match is over (terminated).
- Info at episode ends (NaN elsewhere): `score` (goals the controlled team scored),
  `goal_diff` (scored minus conceded) and `win` (1 if goal_diff > 0), read from the
  raw observation's `score`.
- Seeding: gfootball draws each episode's engine seed from Python's `random` (and,
  once per env, which team the engine processes first) unless the config sets them;
  this copy sets both every episode from its own RNG, seeded by `reset(seed)`, so
  the same seed gives the same games in any process.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import gymnasium as gym
import numpy as np

from envs.vector.copy import CopySpec, CopyStep

INFO_KEYS = ("score", "goal_diff", "win")


class FootballCopy:
    """One game of `scenario` with `num_agents` controlled left players."""

    def __init__(
        self,
        scenario: str,
        num_agents: int,
        *,
        representation: str = "simple115v2",
        rewards: str = "scoring",
        **football_kwargs: Any,
    ):
        with warnings.catch_warnings():  # gym 0.25's deprecation notices, once per worker
            warnings.simplefilter("ignore")
            import gfootball.env as football

            self.env = football.create_environment(
                env_name=scenario,
                representation=representation,
                rewards=rewards,
                number_of_left_players_agent_controls=num_agents,
                **football_kwargs,
            )
        self.num_agents = num_agents
        self._game = self.env.unwrapped
        self._rng = np.random.default_rng()
        obs_shape = (
            self.env.observation_space.shape[-1:] if num_agents > 1 else self.env.observation_space.shape
        )
        scenario_config = self._game._config.ScenarioConfig()
        self._duration = int(scenario_config.game_duration)
        self._academy = bool(
            scenario_config.end_episode_on_score
            or scenario_config.end_episode_on_out_of_play
            or scenario_config.end_episode_on_possession_change
        )
        agents = tuple(f"agent_{i}" for i in range(num_agents))
        obs_space = gym.spaces.Box(-np.inf, np.inf, tuple(obs_shape), np.float32)
        n_actions = int(
            np.ravel(getattr(self.env.action_space, "nvec", [getattr(self.env.action_space, "n", 0)]))[0]
        )
        self.spec = CopySpec(
            agents=agents,
            observation_spaces=dict.fromkeys(agents, obs_space),
            action_spaces=dict.fromkeys(agents, gym.spaces.Discrete(n_actions)),
            state_space=gym.spaces.Box(-np.inf, np.inf, (num_agents * int(np.prod(obs_shape)),), np.float32),
            # gfootball ends a game once its step count passes `game_duration`.
            max_episode_steps=self._duration + 1,
            info_keys=INFO_KEYS,
        )
        self._steps = 0

    def reset(self, seed: int | None) -> CopyStep:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        engine_seed = int(self._rng.integers(2**31 - 1))
        self._game._config["game_engine_random_seed"] = engine_seed
        # gfootball otherwise fixes this from an unseeded draw when the env is built.
        self._game._config["reverse_team_processing"] = bool(engine_seed % 2)
        obs = self.env.reset()
        self._steps = 0
        return self._copy_step(obs, np.zeros(self.num_agents, np.float32), dict.fromkeys(INFO_KEYS, math.nan))

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        chosen = [int(actions[a]) for a in self.spec.agents]
        obs, reward, done, _ = self.env.step(chosen if self.num_agents > 1 else chosen[0])
        self._steps += 1
        team = float(np.mean(reward))
        info = dict.fromkeys(INFO_KEYS, math.nan)
        if done:
            scored, conceded = self._game.observation()[0]["score"]
            info = {
                "score": float(scored),
                "goal_diff": float(scored - conceded),
                "win": float(scored > conceded),
            }
        step = self._copy_step(obs, np.full(self.num_agents, team, np.float32), info)
        step.truncated = bool(done) and self._academy and self._steps > self._duration and team == 0.0
        step.terminated = bool(done) and not step.truncated
        return step

    def close(self) -> None:
        self.env.close()

    def _copy_step(self, obs: Any, reward: np.ndarray, info: dict[str, float]) -> CopyStep:
        stacked = np.asarray(obs, dtype=np.float32).reshape(self.num_agents, -1)
        return CopyStep(
            obs={a: stacked[i].copy() for i, a in enumerate(self.spec.agents)},
            state=stacked.reshape(-1).copy(),
            reward=reward,
            info=info,
        )
