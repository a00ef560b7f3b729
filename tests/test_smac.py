"""SMAC / SMACv2 wrapper, tested against the scripted stand-in in `sc2_standin.py`
(StarCraft II cannot be installed here) and against the real game when it is."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sc2_standin import CapabilityWrapperStandIn, StarCraft2EnvStandIn

import envs

STOP, NO_OP = 1, 0


def make(task="smac/3m", num_envs=2, vector="sync", **kwargs):
    factory = CapabilityWrapperStandIn if task.startswith("smacv2/") else StarCraft2EnvStandIn
    return envs.make(task, num_envs=num_envs, vector=vector, env_factory=factory, seed=0, **kwargs)


def stop_all(env):
    return {a: torch.full((env.spec.num_envs,), STOP) for a in env.spec.agents}


def test_registration_does_not_import_smac():
    code = (
        "import sys, envs; names = {t.name for t in envs.registered_tasks()}; "
        "assert {'smac/3m', 'smac/MMM2', 'smacv2/10gen_protoss_5v5'} <= names; "
        "assert not {'smac', 'smacv2', 'pysc2'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(importlib.util.find_spec("smac") is not None, reason="smac is installed")
def test_missing_smac_says_how_to_install_smac_and_the_game():
    with pytest.raises(envs.MissingDependencyError, match=r"oxwhirl/smac.*SC2PATH"):
        envs.make("smac/3m")


@pytest.mark.parametrize("vector", ["sync", "subproc"])
def test_check_env_smac(vector):
    with make(vector=vector) as env:
        spec = env.spec
        assert spec.agents == ("agent_0", "agent_1", "agent_2") and spec.family == "smac"
        assert spec.action_spaces["agent_0"].n == 6 + 3 and spec.max_episode_steps == 60
        envs.check_env(env)


def test_check_env_smacv2_whose_reset_can_return_none():
    raw = CapabilityWrapperStandIn(map_name="10gen_protoss", capability_config={"n_units": 5, "n_enemies": 5})
    assert [raw.reset() is None for _ in range(3)] == [False, False, True]
    with make("smacv2/10gen_protoss_5v5") as env:
        assert env.spec.num_agents == 5 and env.spec.family == "smacv2"
        envs.check_env(env)


def test_masked_action_raises_before_reaching_the_game():
    with make() as env:
        timestep = env.reset()
        assert not timestep.action_mask["agent_0"][:, 6:].any()  # enemies out of range at the start
        assert not timestep.action_mask["agent_0"][:, NO_OP].any()  # no-op is for dead agents only
        actions = stop_all(env)
        actions["agent_2"] = torch.tensor([STOP, 6])
        with pytest.raises(ValueError, match=r"agent 'agent_2': action 6 in copy 1 is forbidden"):
            env.step(actions)


def test_scripted_win_sets_the_win_flag_at_the_episode_end_only():
    """Enemies start in range with one shot of health: attacking them wins at once."""
    with make(start_distance=4.0, enemy_health=6.0) as env:
        timestep = env.reset()
        for i, agent in enumerate(env.spec.agents):  # ally i faces enemy i
            assert timestep.action_mask[agent][:, 6 + i].all()
        timestep = env.step({agent: torch.full((2,), 6 + i) for i, agent in enumerate(env.spec.agents)})
        assert timestep.terminated.all() and not timestep.truncated.any()
        assert timestep.info["win"].tolist() == [1.0, 1.0]
        assert timestep.info["dead_enemies"].tolist() == [3.0, 3.0]
        # Team reward to every agent, including the (scaled) win bonus of 200.
        assert all(torch.equal(timestep.reward[a], timestep.reward["agent_0"]) for a in env.spec.agents)
        assert (timestep.reward["agent_0"] > 200 / (3 * 10 + 200 + 3 * 6.0) * 20 - 1e-4).all()
        assert not torch.equal(timestep.final_state, timestep.state)  # a fresh battle started


def test_lost_battle_terminates_without_a_win_and_dead_agents_may_only_no_op():
    with make(start_distance=4.0, enemy_damage=15.0) as env:
        env.reset()
        timestep = env.step(stop_all(env))
        dead = timestep.info["dead_allies"]
        assert (dead >= 1).all() and not timestep.done.any()
        for agent in env.spec.agents:  # a dead agent's mask is exactly [no-op]
            mask = timestep.action_mask[agent]
            is_dead = mask[:, NO_OP]
            assert (mask[is_dead].sum(1) == 1).all() and not mask[~is_dead][:, NO_OP].any()
        with pytest.raises(ValueError, match="forbidden by the action mask"):
            env.step(stop_all(env))
        for _ in range(10):
            masks = timestep.action_mask
            timestep = env.step({a: torch.where(masks[a][:, NO_OP], NO_OP, STOP) for a in env.spec.agents})
            if timestep.done.all():
                break
        assert timestep.terminated.all() and not timestep.truncated.any()
        assert timestep.info["win"].tolist() == [0.0, 0.0]
        assert timestep.info["dead_allies"].tolist() == [3.0, 3.0]


@pytest.mark.parametrize("continuing_episode", [False, True])
def test_episode_limit_is_truncation(continuing_episode):
    """SMAC ends a timed-out episode with terminated=True; the suite reports truncation."""
    with make(enemy_damage=0.0, continuing_episode=continuing_episode) as env:
        env.reset()
        for t in range(1, 61):
            timestep = env.step(stop_all(env))
            assert timestep.truncated.tolist() == [t == 60] * 2
        assert not timestep.terminated.any()
        assert timestep.info["win"].tolist() == [0.0, 0.0]
        assert timestep.info["episode_length"].tolist() == [60.0, 60.0]


def test_copies_are_seeded_with_seed_plus_index_and_a_new_seed_relaunches():
    with make(num_envs=3) as env:
        env.reset()
        games = [copy.env.env for copy in env._vector.copies]
        assert [game.seed() for game in games] == [0, 1, 2]
        env.reset()  # no seed: the running games continue
        assert [copy.env.env for copy in env._vector.copies] == games
        first = env.reset(seed=0)  # a seed relaunches, even the same one
        assert not any(copy.env.env is game for copy, game in zip(env._vector.copies, games, strict=True))
        other = env.reset(seed=10)
        assert [copy.env.env.seed() for copy in env._vector.copies] == [10, 11, 12]
        assert not torch.equal(first.state, other.state)
        again = env.reset(seed=0)
        assert torch.equal(first.state, again.state)


def test_raw_game_and_suite_agree():
    """Stepping the stand-in by hand gives the suite's numbers (copy 0, seed 0)."""
    with make(num_envs=1, start_distance=5.0) as env:
        timestep = env.reset()
        raw = StarCraft2EnvStandIn(map_name="3m", seed=0, start_distance=5.0)
        obs, state = raw.reset()
        generator = torch.Generator().manual_seed(0)
        for _ in range(40):
            np.testing.assert_array_equal(timestep.state[0].numpy(), state)
            for i, agent in enumerate(env.spec.agents):
                np.testing.assert_array_equal(timestep.obs[agent][0].numpy(), obs[i])
                assert timestep.action_mask[agent][0].tolist() == [
                    bool(x) for x in raw.get_avail_agent_actions(i)
                ]
            actions = envs.random_actions(env.spec, timestep.action_mask, generator)
            timestep = env.step(actions)
            reward, ended, _ = raw.step([int(actions[a][0]) for a in env.spec.agents])
            assert timestep.reward["agent_0"].item() == pytest.approx(reward, rel=1e-6)
            assert bool(timestep.done[0]) == ended
            if ended:
                raw.reset()
            obs, state = raw.get_obs(), raw.get_state()


def _sc2_installed() -> bool:
    path = os.path.expanduser(os.environ.get("SC2PATH", "~/StarCraftII"))
    return importlib.util.find_spec("smac") is not None and os.path.isdir(path)


@pytest.mark.skipif(not _sc2_installed(), reason="needs smac and StarCraft II (SC2PATH)")
def test_real_smac_3m_passes_the_checker():
    """The real game (about a minute: every seeded reset relaunches StarCraft II)."""
    with envs.make("smac/3m", num_envs=2, seed=0) as env:
        assert env.spec.action_spaces["agent_0"].n == 9 and env.spec.max_episode_steps == 60
        envs.check_env(env)
