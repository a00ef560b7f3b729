"""Google Research Football through the suite, on the real game.

gfootball builds from source (`bash scripts/install_football.sh`); without it these
tests are skipped with that message.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch

import envs

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gfootball") is None,
    reason="gfootball is not installed: run `bash scripts/install_football.sh` (builds it from source)",
)

SHOOT, RIGHT, IDLE = 12, 5, 0


def test_registration_does_not_import_gfootball():
    code = (
        "import sys, envs; names = {t.name for t in envs.registered_tasks('football')}; "
        "assert 'football/academy_3_vs_1_with_keeper' in names and 'football/academy_corner' in names; "
        "assert 'gfootball' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_gfootball_says_to_run_the_install_script():
    code = (
        "import sys; sys.modules['gfootball'] = None; import envs\n"
        "try:\n    envs.make('football/academy_3_vs_1_with_keeper')\n"
        "except envs.MissingDependencyError as e:\n    assert 'install_football.sh' in str(e), e\n"
        "else:\n    raise SystemExit('no MissingDependencyError')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_env_3_vs_1_with_keeper_subproc():
    with envs.make("football/academy_3_vs_1_with_keeper", num_envs=2, seed=0) as env:
        spec = env.spec
        assert spec.backend == "subproc" and spec.agents == ("agent_0", "agent_1", "agent_2")
        assert spec.observation_spaces["agent_0"].shape == (115,)  # simple115v2
        assert spec.action_spaces["agent_0"].n == 19 and spec.state_space.shape == (3 * 115,)
        envs.check_env(env)


def _shoot_at_the_empty_goal(env, steps=40):
    """Run right for 3 steps, then shoot until the episode ends."""
    timestep = env.reset()
    history = []
    for t in range(steps):
        timestep = env.step({"agent_0": torch.full((env.spec.num_envs,), SHOOT if t > 2 else RIGHT)})
        history.append(timestep)
        if timestep.done.all():
            return history
    raise AssertionError("no goal")


def test_score_flag_matches_the_reward_of_the_goal():
    with envs.make("football/academy_empty_goal_close", num_envs=2, seed=3) as env:
        history = _shoot_at_the_empty_goal(env)
    *before, last = history
    for timestep in before:  # nothing to report before the episode ends
        for key in ("score", "goal_diff", "win", "episode_return"):
            assert torch.isnan(timestep.info[key]).all(), key
        assert (timestep.reward["agent_0"] == 0).all()
    assert last.terminated.all() and not last.truncated.any()
    assert last.reward["agent_0"].tolist() == [1.0, 1.0]  # the scoring reward of the goal
    assert last.info["score"].tolist() == last.reward["agent_0"].tolist()
    assert last.info["goal_diff"].tolist() == [1.0, 1.0] and last.info["win"].tolist() == [1.0, 1.0]
    assert last.info["episode_return"].tolist() == [1.0, 1.0]


def test_checkpoint_rewards_are_an_option():
    with envs.make(
        "football/academy_empty_goal_close", num_envs=1, seed=3, vector="sync", rewards="scoring,checkpoints"
    ) as env:
        history = _shoot_at_the_empty_goal(env)
    last = history[-1]
    assert last.info["score"].item() == 1.0
    # Reaching the goal collects the ten 0.1 checkpoints on top of the goal.
    assert last.info["episode_return"].item() == pytest.approx(2.0, abs=1e-5)


def test_academy_time_limit_is_truncation_without_a_goal():
    """Running in a square keeps the ball from the keeper until the time runs out,
    which gfootball signals after `game_duration + 1` steps."""
    with envs.make("football/academy_run_to_score_with_keeper", num_envs=1, seed=0, vector="sync") as env:
        assert env.spec.max_episode_steps == 401
        env.reset()
        for t in range(1, 402):
            timestep = env.step({"agent_0": torch.tensor([(3, 5, 7, 1)[(t // 8) % 4]])})
            assert bool(timestep.done[0]) == (t == 401)
        assert timestep.truncated.all() and not timestep.terminated.any()
        assert timestep.info["score"].tolist() == [0.0] and timestep.info["win"].tolist() == [0.0]


def test_sync_and_subproc_give_the_same_numbers():
    def rollout(vector):
        with envs.make(
            "football/academy_pass_and_shoot_with_keeper", num_envs=2, seed=5, vector=vector
        ) as env:
            timestep = env.reset()
            generator = torch.Generator().manual_seed(5)
            states = []
            for _ in range(30):
                timestep = env.step(envs.random_actions(env.spec, None, generator))
                states.append(timestep.final_state)
            return torch.stack(states)

    assert torch.equal(rollout("sync"), rollout("subproc"))
