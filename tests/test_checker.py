"""check_env finds the contract violations it is meant to find."""

from __future__ import annotations

import pytest
import torch

import envs
from envs.checker import EnvCheckError
from envs.tasks.mpe import make_mpe


class Broken(envs.VectorEnv):
    """MPE with one deliberate defect, chosen by `defect`."""

    def __init__(self, defect: str):
        env = make_mpe("simple_spread", num_envs=2)
        self.__dict__.update(env.__dict__)
        self.defect = defect

    def _reset(self, seed):
        if self.defect == "ignores_seed":
            seed = int(torch.randint(0, 10**6, ()).item())
        timestep = super()._reset(seed)
        if self.defect == "wrong_dtype":
            timestep.obs["agent_0"] = timestep.obs["agent_0"].double()
        return timestep

    def _step(self, actions):
        timestep = super()._step(actions)
        if self.defect == "final_obs_lost":
            timestep.final_obs = timestep.obs
        if self.defect == "reward_shape":
            timestep.reward["agent_1"] = timestep.reward["agent_1"][:1]
        if self.defect == "episode_stats_everywhere":
            timestep.info["episode_return"] = torch.zeros(2)
        return timestep


@pytest.mark.parametrize(
    ("defect", "message"),
    [
        ("ignores_seed", "determinism"),
        ("wrong_dtype", r"obs\[agent_0\]: dtype torch.float64"),
        ("reward_shape", r"reward\[agent_1\]: shape \(1,\)"),
        ("episode_stats_everywhere", r"episode_return\] must be NaN where no episode ended"),
    ],
)
def test_checker_rejects_broken_envs(defect, message):
    with pytest.raises(EnvCheckError, match=message):
        envs.check_env(Broken(defect))


def test_checker_notices_lost_final_observations():
    with pytest.raises(EnvCheckError, match="final observation of finished episodes seems to be lost"):
        envs.check_env(Broken("final_obs_lost"))


def test_checker_refuses_an_env_that_does_not_validate():
    env = envs.make("mpe2/simple_spread", num_envs=2)
    envs.check_env(env)  # the validating env passes
    env.step = env._step  # claims to validate, but steps whatever it is given
    with pytest.raises(
        EnvCheckError, match="raised KeyError for actions without agent 'agent_0'; it must raise ValueError"
    ):
        envs.check_env(env)
