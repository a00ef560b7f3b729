"""SMAX (JaxMARL) through the suite: conformance, masks, win flags, raw equality.

Each distinct (map, options, num_envs) compiles once per process (a few seconds on
CPU), so the tests share a handful of configurations.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import envs

jax = pytest.importorskip("jax", reason="SMAX needs jax: pip install 'marlsuite[smax]'")
pytest.importorskip("jaxmarl", reason="SMAX needs jaxmarl: pip install 'marlsuite[smax]'")
import jax.numpy as jnp  # noqa: E402
from jaxmarl.environments.smax import HeuristicEnemySMAX, map_name_to_scenario  # noqa: E402

NUM_ENVS = 3


@pytest.fixture(scope="module")
def env3m():
    with envs.make("smax/3m", num_envs=NUM_ENVS, seed=0) as env:
        yield env


def test_registry_lists_smax_maps_without_importing_jax():
    code = (
        "import sys, envs; names = [t.name for t in envs.registered_tasks('smax')]; "
        "assert {'smax/3m', 'smax/2s3z', 'smax/5m_vs_6m'} <= set(names), names; "
        "assert 'jax' not in sys.modules and 'jaxmarl' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_jaxmarl_raises_missing_dependency_error():
    code = (
        "import sys; sys.modules['jaxmarl'] = None; import envs\n"
        "try:\n    envs.make('smax/3m')\n"
        "except envs.MissingDependencyError as e:\n    assert 'pip install -e \".[smax]\"' in str(e), e\n"
        "else:\n    raise SystemExit('no MissingDependencyError')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_env_3m(env3m):
    spec = env3m.spec
    assert spec.agents == ("agent_0", "agent_1", "agent_2")
    assert spec.action_spaces["agent_0"].n == 3 + 5  # 4 moves, stop, one attack per enemy
    assert spec.has_action_masks and spec.max_episode_steps == 101
    envs.check_env(env3m)


def test_check_env_2s3z_heterogeneous_units():
    with envs.make("smax/2s3z", num_envs=2, seed=1) as env:
        assert env.spec.num_agents == 5
        envs.check_env(env)


def test_masked_action_raises(env3m):
    timestep = env3m.reset(seed=3)
    mask = timestep.action_mask["agent_0"]
    # Teams start 16 units apart, beyond every attack range: attacks are masked.
    assert not bool(mask[:, 5:].any()) and bool(mask[:, :5].all())
    actions = {a: torch.full((NUM_ENVS,), 4) for a in env3m.spec.agents}  # stop: always allowed
    actions["agent_1"] = torch.tensor([4, 6, 4])
    with pytest.raises(
        ValueError, match=r"agent 'agent_1': action 6 in copy 1 is forbidden by the action mask"
    ):
        env3m.step(actions)


def test_flags_and_statistics_only_at_episode_ends(env3m):
    timestep = env3m.reset(seed=7)
    generator = torch.Generator().manual_seed(7)
    endings = 0
    for _ in range(120):
        timestep = env3m.step(envs.random_actions(env3m.spec, timestep.action_mask, generator))
        done = timestep.done
        assert not bool((timestep.terminated & timestep.truncated).any())
        for key in ("win", "episode_return", "episode_length"):
            value = timestep.info[key]
            assert torch.isfinite(value[done]).all() and torch.isnan(value[~done]).all(), key
        assert set(timestep.info["win"][done].tolist()) <= {0.0, 1.0}
        endings += int(done.sum())
    assert endings >= NUM_ENVS  # random marines lose (or die on the walls) within 120 steps


def _scripted_almost_won(env):
    """Every enemy one unit right of an ally with almost no health left."""
    states = env.jax_state
    inner = states.state
    n = env.jax_env.num_allies
    positions = inner.unit_positions.at[:, n:].set(inner.unit_positions[:, :n] + jnp.array([1.0, 0.0]))
    health = inner.unit_health.at[:, n:].set(0.01)
    return states.replace(state=inner.replace(unit_positions=positions, unit_health=health))


def test_scripted_episode_where_all_enemies_die_reports_a_win(env3m):
    env3m.reset(seed=11)
    for _ in range(3):  # a few steps into the episode, so its length is known
        timestep = env3m.step({a: torch.full((NUM_ENVS,), 4) for a in env3m.spec.agents})
    assert not bool(timestep.done.any())
    timestep = env3m.set_jax_state(_scripted_almost_won(env3m))
    assert timestep.action_mask["agent_0"][:, 5:].all()  # every enemy now in range
    # Ally i shoots enemy i; one hit kills each.
    timestep = env3m.step({f"agent_{i}": torch.full((NUM_ENVS,), 5 + i) for i in range(3)})
    assert timestep.terminated.all() and not timestep.truncated.any()
    assert timestep.info["win"].tolist() == [1.0] * NUM_ENVS
    assert timestep.info["episode_length"].tolist() == [4.0] * NUM_ENVS
    bonus = env3m.jax_env.won_battle_bonus
    assert (timestep.reward["agent_0"] >= bonus).all()
    assert timestep.info["episode_return"] == pytest.approx(timestep.reward["agent_0"].tolist())
    # The final state shows the dead enemies (zero features); the new episode is full strength.
    per_unit = len(env3m.jax_env.own_features)
    enemies = slice(3 * per_unit, 6 * per_unit)
    assert (timestep.final_state[:, enemies] == 0).all()
    assert (timestep.state[:, enemies] != 0).any(dim=1).all()
    assert not torch.equal(timestep.final_obs["agent_0"], timestep.obs["agent_0"])


def test_dead_agent_may_only_stop(env3m):
    env3m.reset(seed=5)
    states = env3m.jax_state
    inner = states.state
    dead = states.replace(
        state=inner.replace(
            unit_health=inner.unit_health.at[:, 0].set(0.0), unit_alive=inner.unit_alive.at[:, 0].set(False)
        )
    )
    timestep = env3m.set_jax_state(dead)
    expected = torch.zeros(8, dtype=torch.bool)
    expected[4] = True
    assert (timestep.action_mask["agent_0"] == expected).all()
    assert (timestep.obs["agent_0"] == 0).all()
    with pytest.raises(ValueError, match="forbidden by the action mask"):
        env3m.step({a: torch.zeros(NUM_ENVS, dtype=torch.long) for a in env3m.spec.agents})


def test_timeout_is_truncation_and_not_a_win():
    """SMAX ends an episode when `step >= max_steps` before counting the step, so an
    episode that times out lasts `max_steps + 1` steps (the spec says so)."""
    with envs.make("smax/3m", num_envs=2, seed=0, max_steps=5) as env:
        assert env.spec.max_episode_steps == 6
        timestep = env.reset()
        for t in range(1, 7):
            timestep = env.step({a: torch.full((2,), 4) for a in env.spec.agents})  # everyone stops
            assert timestep.truncated.tolist() == [t == 6] * 2
            assert torch.isnan(timestep.info["win"]).all() == (t < 6)
        assert not timestep.terminated.any()
        assert timestep.info["win"].tolist() == [0.0, 0.0]
        assert timestep.info["episode_length"].tolist() == [6.0, 6.0]


def test_matches_raw_jaxmarl_with_the_documented_keys(env3m):
    """Copy i equals HeuristicEnemySMAX driven by hand with key PRNGKey(seed + i), the final
    action mask included (the mask of an ended episode's last state, not the next one's)."""
    seed, steps, ended = 21, 30, 0
    raw = HeuristicEnemySMAX(scenario=map_name_to_scenario("3m"))
    timestep = env3m.reset(seed=seed)
    keys, states = [], []
    for i in range(NUM_ENVS):
        key, sub = jax.random.split(jax.random.PRNGKey(seed + i))
        obs, state = raw.reset(sub)
        keys.append(key)
        states.append(state)
        for j, agent in enumerate(env3m.spec.agents):
            np.testing.assert_array_equal(timestep.obs[agent][i].numpy(), np.asarray(obs[f"ally_{j}"]))
        np.testing.assert_array_equal(timestep.state[i].numpy(), np.asarray(obs["world_state"]))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        actions = envs.random_actions(env3m.spec, timestep.action_mask, generator)
        timestep = env3m.step(actions)
        for i in range(NUM_ENVS):
            keys[i], step_key, reset_key = jax.random.split(keys[i], 3)
            raw_actions = {f"ally_{j}": jnp.int32(actions[a][i]) for j, a in enumerate(env3m.spec.agents)}
            obs, states[i], rewards, dones, _ = raw.step_env(step_key, states[i], raw_actions)
            for j, agent in enumerate(env3m.spec.agents):
                np.testing.assert_allclose(timestep.final_obs[agent][i].numpy(), obs[f"ally_{j}"], atol=1e-6)
                assert timestep.reward[agent][i].item() == pytest.approx(
                    float(rewards[f"ally_{j}"]), abs=1e-6
                )
            assert bool(timestep.done[i]) == bool(dones["__all__"])
            final_avail = raw.get_avail_actions(states[i])  # of the step just taken, before any reset
            for j, agent in enumerate(env3m.spec.agents):
                np.testing.assert_array_equal(
                    timestep.final_action_mask[agent][i].numpy(),
                    np.asarray(final_avail[f"ally_{j}"]).astype(bool),
                )
            ended += bool(dones["__all__"])
            if bool(dones["__all__"]):
                obs, states[i] = raw.reset(reset_key)
            avail = raw.get_avail_actions(states[i])
            for j, agent in enumerate(env3m.spec.agents):
                np.testing.assert_allclose(timestep.obs[agent][i].numpy(), obs[f"ally_{j}"], atol=1e-6)
                np.testing.assert_array_equal(
                    timestep.action_mask[agent][i].numpy(), np.asarray(avail[f"ally_{j}"]).astype(bool)
                )
    assert ended >= 2  # the final masks were compared at episode ends too


def test_same_seed_same_numbers_and_different_seeds_differ(env3m):
    def rollout(seed):
        timestep = env3m.reset(seed=seed)
        generator = torch.Generator().manual_seed(0)
        for _ in range(10):
            timestep = env3m.step(envs.random_actions(env3m.spec, timestep.action_mask, generator))
        return timestep.state.clone()

    assert torch.equal(rollout(1), rollout(1))
    assert not torch.equal(rollout(1), rollout(2))


def test_results_share_memory_with_jax_on_cpu(env3m):
    """A step's tensors are views of JAX's CPU buffers, not copies: agent i's observation
    starts i blocks into the agent-major array."""
    env3m.reset(seed=0)
    results = env3m.programs.observe(env3m.jax_state, env3m._totals)
    timestep = env3m._timestep(results)
    assert timestep.state.data_ptr() == results.state.unsafe_buffer_pointer()
    block = NUM_ENVS * env3m.jax_env.obs_size * 4  # float32 bytes per agent
    for i, agent in enumerate(env3m.spec.agents):
        assert timestep.obs[agent].data_ptr() == results.obs.unsafe_buffer_pointer() + i * block
        assert timestep.obs[agent].is_contiguous()


def test_episode_statistics_sum_each_episodes_mean_rewards(env3m):
    """`episode_return` is the sum over the episode's steps of the mean reward over agents and
    `episode_length` its step count (EpisodeStats' definition; SMAX keeps them inside its
    jitted step), summed here by hand from the rewards each step returned."""
    timestep = env3m.reset(seed=3)
    generator = torch.Generator().manual_seed(3)
    returns, lengths = np.zeros(NUM_ENVS), np.zeros(NUM_ENVS)
    checked = 0
    for _ in range(150):
        timestep = env3m.step(envs.random_actions(env3m.spec, timestep.action_mask, generator))
        returns += np.mean([timestep.reward[a].numpy() for a in env3m.spec.agents], axis=0)
        lengths += 1
        for i in np.flatnonzero(timestep.done.numpy()):
            assert timestep.info["episode_return"][i].item() == pytest.approx(returns[i], abs=1e-5)
            assert timestep.info["episode_length"][i].item() == lengths[i]
            returns[i] = lengths[i] = 0
            checked += 1
    assert checked >= NUM_ENVS
