"""The two-step cooperative matrix game of the QMIX paper (Rashid et al., 2018, section 6.1),
as a registered suite task (`matrix/two_step`): a test bed whose optimum needs coordination.

Two agents, two actions, fully observed one-hot state. In the first step agent 0's action
picks the second game: 0 -> game A (every joint action pays 7), 1 -> game B, which pays
[[0, 1], [1, 8]]. The optimum (8) needs agent 0 to give up a sure 7 for a game that only
pays when both agents then pick action 1. QMIX learns it; an additive decomposition (VDN)
settles for 7 in the paper. `python -m baselines.run --env baselines.matrix_game:matrix/two_step --algo qmix`.
"""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import torch

import envs
from envs.spec import EnvSpec
from envs.timestep import TimeStep

GAME_B = ((0.0, 1.0), (1.0, 8.0))
OPTIMUM = 8.0
AGENTS = ("agent_0", "agent_1")


class TwoStepGame(envs.MultiAgentEnv):
    """`num_envs` copies; states 0 (first step), 1 (game A), 2 (game B); episodes of 2 steps."""

    def __init__(
        self,
        *,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        seed: int | None = None,
        validate_actions: bool = True,
    ):
        box = gym.spaces.Box(0.0, 1.0, (3,), dtype="float32")
        spec = EnvSpec(
            name="matrix/two_step",
            family="matrix",
            backend="torch",
            agents=AGENTS,
            observation_spaces=dict.fromkeys(AGENTS, box),
            action_spaces=dict.fromkeys(AGENTS, gym.spaces.Discrete(2)),
            state_space=box,
            num_envs=num_envs,
            device=device,
            max_episode_steps=2,
            info_keys=("episode_return", "episode_length"),
        )
        super().__init__(spec, seed=seed, validate_actions=validate_actions)
        self.where = torch.zeros(num_envs, dtype=torch.long, device=spec.device)
        self.payoff_b = torch.tensor(GAME_B, device=spec.device)

    def _observe(self, where: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        state = torch.nn.functional.one_hot(where, 3).float()
        return dict.fromkeys(AGENTS, state), state

    def _reset(self, seed: int | None) -> TimeStep:  # deterministic: the seed changes nothing
        self.where.zero_()
        obs, state = self._observe(self.where)
        n = self.spec.num_envs
        nan = torch.full((n,), float("nan"), device=self.spec.device)
        zeros = torch.zeros(n, dtype=torch.bool, device=self.spec.device)
        return TimeStep(
            obs=obs,
            state=state,
            reward=dict.fromkeys(AGENTS, torch.zeros(n, device=self.spec.device)),
            terminated=zeros,
            truncated=zeros,
            final_obs=obs,
            final_state=state,
            info={"episode_return": nan, "episode_length": nan.clone()},
        )

    def _step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep:
        a0, a1 = actions["agent_0"].long(), actions["agent_1"].long()
        first = self.where == 0
        reward = torch.where(first, 0.0, torch.where(self.where == 1, 7.0, self.payoff_b[a0, a1]))
        done = ~first
        self.where = torch.where(first, 1 + a0, self.where)
        final_obs, final_state = self._observe(self.where)
        self.where = torch.where(done, torch.zeros_like(self.where), self.where)
        obs, state = self._observe(self.where)
        nan = torch.full_like(reward, float("nan"))
        return TimeStep(
            obs=obs,
            state=state,
            reward=dict.fromkeys(AGENTS, reward),
            terminated=done,
            truncated=torch.zeros_like(done),
            final_obs=final_obs,
            final_state=final_state,
            info={
                "episode_return": torch.where(done, reward, nan),
                "episode_length": torch.where(done, 2.0, nan),
            },
        )


def register() -> None:
    envs.register(
        "matrix/two_step", TwoStepGame, family="matrix", override=True, description=__doc__.splitlines()[0]
    )


register()
