"""Uneven discrete action counts under one head (QMIX, MAT, MAT-Dec): every agent gets the
largest count and only its own actions are allowed, as EPyMARL pads them (uoe-agents/epymarl
src/envs/gymma.py, `get_avail_agent_actions`: the agent's own actions 1, the rest of the
longest space 0). On `mpe2/simple_speaker_listener` the speaker has 3 actions, the listener 5.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import envs
from baselines.action_padding import own_action_mask, stack_action_masks
from baselines.algorithms.mat import MAT
from baselines.algorithms.qmix import QMIX
from baselines.config import resolve
from baselines.run import main

TASK = "mpe2/simple_speaker_listener"


def test_own_actions_are_ones_then_zeros_up_to_the_longest_space():
    own = own_action_mask([gym.spaces.Discrete(3), gym.spaces.Discrete(5)])
    assert own.tolist() == [[True, True, True, False, False], [True] * 5]  # EPyMARL's avail rows
    assert own_action_mask([gym.spaces.Discrete(4), gym.spaces.Discrete(4)]) is None  # nothing to pad
    with pytest.raises(ValueError, match="only Discrete spaces"):
        own_action_mask([gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))])


def test_env_masks_are_padded_and_kept_within_each_agents_own_actions():
    own = own_action_mask([gym.spaces.Discrete(3), gym.spaces.Discrete(5)])
    env_masks = {
        "speaker": torch.tensor([[True, False, True], [False, True, False]]),
        "listener": torch.tensor([[True, True, False, False, True], [False] * 4 + [True]]),
    }
    stacked = stack_action_masks(env_masks, ["speaker", "listener"], own, (2,))
    assert stacked.shape == (2, 2, 5)
    assert stacked[:, 0].tolist() == [[True, False, True, False, False], [False, True, False, False, False]]
    assert stacked[:, 1].tolist() == env_masks["listener"].tolist()
    without_env = stack_action_masks(None, ["speaker", "listener"], own, (4, 2))
    assert without_env.shape == (4, 2, 2, 5) and (without_env == own).all()
    assert stack_action_masks(None, ["speaker", "listener"], None, (2,)) is None


def _spec_and_config(algo: str):
    env = envs.make(TASK, num_envs=2, seed=0)
    config, _ = resolve(algo, TASK, "mpe2", overrides=[])
    return env, config


def test_qmix_explores_only_each_agents_own_actions():
    env, config = _spec_and_config("qmix")
    algo = QMIX(env.spec, config, torch.device("cpu"))
    assert algo.num_actions == 5
    algo.epsilon = 1.0  # every action drawn at random among the allowed ones
    timestep = env.reset(seed=0)
    obs = {a: timestep.obs[a].repeat(2000, 1) for a in env.spec.agents}
    hidden = algo.initial_hidden(4000)["actor"]
    actions, _, _ = algo.act(obs, None, hidden, torch.ones(4000, dtype=torch.bool))
    speaker, listener = env.spec.agents
    assert set(actions[speaker].tolist()) == {0, 1, 2}  # all three of its own, none of the padding
    assert set(actions[listener].tolist()) == {0, 1, 2, 3, 4}
    algo.epsilon = 0.0
    with torch.no_grad():  # the greedy choice too, even where a padded action has the largest Q
        algo.agent.fc2.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 100.0, 100.0]))
    greedy, _, _ = algo.act(obs, None, hidden, torch.ones(4000, dtype=torch.bool))
    assert greedy[speaker].max() < 3 and greedy[listener].min() >= 3


@pytest.mark.parametrize("name", ["mat", "mat_dec"])
def test_mat_samples_only_each_agents_own_actions(name):
    from baselines.algorithms.mat import MATDec

    env, config = _spec_and_config(name)
    cls = MAT if name == "mat" else MATDec
    algo = cls(env.spec, config, torch.device("cpu"))
    torch.manual_seed(0)
    timestep = env.reset(seed=0)
    obs = {a: timestep.obs[a].repeat(2000, 1) for a in env.spec.agents}
    speaker, listener = env.spec.agents
    actions, log_probs, _ = algo.act(obs, None, None, torch.ones(4000, dtype=torch.bool))
    assert set(actions[speaker].tolist()) == {0, 1, 2}
    assert set(actions[listener].tolist()) == {0, 1, 2, 3, 4}
    assert all(torch.isfinite(log_probs[a]).all() for a in env.spec.agents)


@pytest.mark.parametrize("algo", ["qmix", "mat", "mat_dec"])
def test_shared_head_algorithms_train_on_uneven_action_spaces(tmp_path, algo):
    argv = ["--env", TASK, "--algo", algo, "--steps", "800", "--num-envs", "4", "--out", str(tmp_path / algo)]
    argv += ["--set", "rollout.length=100", "--eval-episodes", "2"]
    if algo == "qmix":
        argv += ["--set", "offpolicy.batch_size=8"]  # a gradient step within the 32 episodes
    assert main(argv) == 0
    assert (tmp_path / algo / "summary.json").exists()


def test_mat_still_refuses_continuous_actions_of_different_sizes(tmp_path, capsys):
    argv = ["--env", "mamujoco/Humanoid-9|8", "--algo", "mat", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "only Discrete spaces of different sizes can be padded" in capsys.readouterr().err
