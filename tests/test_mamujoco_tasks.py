"""Every registered MaMuJoCo and safe task passes the suite's env checker, and one of
each family passes PettingZoo's parallel API test through the adapter."""

from __future__ import annotations

import pytest

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402

MAMUJOCO = [t.name for t in envs.registered_tasks("mamujoco")]
SAFE = [t.name for t in envs.registered_tasks("safe_mamujoco")]


def test_the_issue_task_lists_are_registered():
    for name in (
        "mamujoco/HalfCheetah-2x3",
        "mamujoco/Ant-4x2",
        "mamujoco/Walker2d-2x3",
        "mamujoco/Humanoid-9|8",
    ):
        assert name in MAMUJOCO
    assert "mamujoco/ManySegmentSwimmer-10x2" in MAMUJOCO
    velocity = {f"Safe{r}Velocity" for r in ("Ant2x4", "Ant4x2", "HalfCheetah6x1", "HalfCheetah2x3")}
    velocity |= {f"Safe{r}Velocity" for r in ("Hopper3x1", "Humanoid9|8", "Swimmer2x1", "Walker2d2x3")}
    corridor = {f"SafeAnt{c}Corridor" for c in ("2x4", "4x2", "8x1")}
    corridor |= {f"SafeManyAgentAnt{c}Corridor" for c in ("2x3", "3x2", "6x1")}
    bomb = {f"SafeHalfCheetah{c}Bomb" for c in ("2x3", "3x2", "6x1")} | {"SafeCoupledHalfCheetah1p1Bomb"}
    expected = velocity | corridor | bomb | {"SafeHopper3x1Obstacle"}
    assert {name.split("/", 1)[1] for name in SAFE} == expected


@pytest.mark.parametrize("task", SAFE)
def test_check_env_passes_on_every_safe_task(task):
    env = envs.make(task, num_envs=2, seed=0, max_episode_steps=15)  # short: the check sees autoresets
    assert env.spec.has_costs and env.spec.info_keys[-1] == "episode_cost"
    envs.check_env(env, steps=40)


@pytest.mark.parametrize("task", MAMUJOCO)
def test_check_env_passes_on_every_mamujoco_task(task):
    env = envs.make(task, num_envs=2, seed=0)
    assert not env.spec.has_costs
    envs.check_env(env, steps=40)


@pytest.mark.parametrize("task", ["mamujoco/HalfCheetah-2x3", "safe_mamujoco/SafeAnt2x4Corridor"])
def test_pettingzoo_parallel_api_test_through_the_adapter(task):
    from pettingzoo.test import parallel_api_test

    parallel_api_test(envs.to_pettingzoo(envs.make(task, seed=0)), num_cycles=200)
