"""MPE through the suite equals mpe2 stepped by hand, and passes the checker."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mpe2 import simple_speaker_listener_v4, simple_spread_v3

import envs

MPE_TASKS = ["mpe2/simple_spread", "mpe2/simple_reference", "mpe2/simple_speaker_listener"]


@pytest.mark.parametrize("task", MPE_TASKS)
@pytest.mark.parametrize("num_envs", [1, 3])
def test_check_env_sync(task, num_envs):
    with envs.make(task, num_envs=num_envs) as env:
        envs.check_env(env)


@pytest.mark.parametrize("task", MPE_TASKS)
def test_check_env_subproc(task):
    with envs.make(task, num_envs=2, vector="subproc") as env:
        envs.check_env(env)


def test_continuous_actions_pass_the_checker():
    with envs.make("mpe2/simple_spread", num_envs=2, continuous_actions=True) as env:
        space = env.spec.action_spaces["agent_0"]
        assert space.shape == (5,) and space.dtype == np.float32
        envs.check_env(env)


@pytest.mark.parametrize(
    ("task", "module"),
    [("mpe2/simple_spread", simple_spread_v3), ("mpe2/simple_speaker_listener", simple_speaker_listener_v4)],
)
def test_matches_raw_mpe2_across_an_autoreset(task, module):
    """Copy i seeded seed+i equals a raw ParallelEnv reset with seed+i, step by step,
    across the end of the 25-step episode: final values from the old episode, the
    new episode continuing the env's RNG as a raw `reset()` does."""
    seed, num_envs, steps = 11, 2, 40
    env = envs.make(task, num_envs=num_envs, seed=seed)
    raws = [module.parallel_env(max_cycles=25) for _ in range(num_envs)]
    timestep = env.reset()
    raw_obs = [raw.reset(seed=seed + i)[0] for i, raw in enumerate(raws)]
    generator = torch.Generator().manual_seed(0)
    returns = np.zeros(num_envs)
    for t in range(1, steps + 1):
        for i, raw in enumerate(raws):
            for agent in env.spec.agents:
                np.testing.assert_array_equal(timestep.obs[agent][i].numpy(), raw_obs[i][agent])
            np.testing.assert_array_equal(timestep.state[i].numpy(), raw.state())
        actions = envs.random_actions(env.spec, None, generator)
        timestep = env.step(actions)
        for i, raw in enumerate(raws):
            obs, rewards, terms, truncs, _ = raw.step({a: int(actions[a][i]) for a in env.spec.agents})
            for agent in env.spec.agents:
                assert timestep.reward[agent][i].item() == pytest.approx(rewards[agent], abs=1e-6)
                np.testing.assert_array_equal(timestep.final_obs[agent][i].numpy(), obs[agent])
            returns[i] += np.mean([rewards[a] for a in env.spec.agents])
            assert bool(timestep.truncated[i]) == all(truncs.values()) == (t == 25)
            assert not bool(timestep.terminated[i]) and not any(terms.values())
            if t == 25:
                np.testing.assert_array_equal(timestep.final_state[i].numpy(), raw.state())
                assert timestep.info["episode_length"][i].item() == 25
                assert timestep.info["episode_return"][i].item() == pytest.approx(returns[i], rel=1e-5)
                returns[i] = 0.0
                obs, _ = raw.reset()
            else:
                assert torch.isnan(timestep.info["episode_return"][i])
            raw_obs[i] = obs
    env.close()


def test_state_is_what_mpe2_state_returns():
    """The adapter builds MPE's state from the observations instead of calling state()."""
    env = envs.make("mpe2/simple_spread", seed=5)
    raw = simple_spread_v3.parallel_env(max_cycles=25)
    raw.reset(seed=5)
    timestep = env.reset()
    np.testing.assert_array_equal(timestep.state[0].numpy(), raw.state())
    assert env.spec.state_space.shape == raw.state_space.shape


def test_heterogeneous_agents_have_their_own_spaces():
    env = envs.make("mpe2/simple_speaker_listener", num_envs=2)
    spaces = env.spec.observation_spaces
    assert spaces["speaker_0"].shape == (3,) and spaces["listener_0"].shape == (11,)
    assert env.spec.action_spaces["speaker_0"].n == 3 and env.spec.action_spaces["listener_0"].n == 5
    timestep = env.reset(seed=0)
    assert timestep.obs["speaker_0"].shape == (2, 3) and timestep.obs["listener_0"].shape == (2, 11)


def test_copies_get_different_seeds():
    timestep = envs.make("mpe2/simple_spread", num_envs=2).reset(seed=0)
    assert not torch.equal(timestep.state[0], timestep.state[1])
