"""The subprocess vector: same numbers as the in-process one, clear errors from workers that
raise or die, and no process left behind."""

from __future__ import annotations

import dataclasses
import functools
import gc
import multiprocessing as mp
import os
import time

import numpy as np
import pytest
import torch
from gymnasium.spaces import Box, Discrete
from pettingzoo.utils.env import ParallelEnv

import envs
from envs.pettingzoo import PettingZooCopy
from envs.vector import SubprocVector


class FlakyEnv(ParallelEnv):
    """Two agents counting steps; at step `fail_at` it `os._exit(3)`s (mode "exit") or raises
    (mode "raise"); mode "init" raises in the constructor."""

    metadata = {"name": "flaky_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, fail_at: int | None = None, mode: str = "exit"):
        if mode == "init":
            raise RuntimeError("FlakyEnv could not find its simulator licence")
        self.fail_at, self.mode = fail_at, mode
        self.possible_agents = ["a", "b"]
        self.agents: list[str] = []
        self.render_mode = None
        self._obs_space = Box(-np.inf, np.inf, (2,), np.float32)
        self._act_space = Discrete(2)
        self.t = 0

    def observation_space(self, agent):
        return self._obs_space

    def action_space(self, agent):
        return self._act_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.t = 0
        return {a: np.zeros(2, np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        if self.t == self.fail_at:
            if self.mode == "exit":
                os._exit(3)
            raise RuntimeError(f"FlakyEnv exploded at step {self.t}")
        obs = {a: np.array([self.t, actions[a]], np.float32) for a in self.agents}
        rewards = {a: 1.0 for a in self.agents}
        done = dict.fromkeys(self.agents, False)
        return obs, rewards, done, dict(done), {a: {} for a in self.agents}


def flaky_copy(fail_at: int | None = None, mode: str = "exit") -> PettingZooCopy:
    return PettingZooCopy(FlakyEnv(fail_at, mode))


def flaky_vector(failing_copy: int | None, num_envs: int = 3, **flaky) -> envs.VectorEnv:
    factories = [
        functools.partial(flaky_copy, **flaky) if i == failing_copy else functools.partial(flaky_copy)
        for i in range(num_envs)
    ]
    return envs.vector.VectorEnv(factories, name="test/flaky", family="test", vector="subproc")


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _left_behind(pids, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def _step_ones(env):
    return env.step({a: torch.ones(env.spec.num_envs, dtype=torch.int64) for a in env.spec.agents})


def _assert_same_timestep(ts1, ts2, where):
    for field in dataclasses.fields(ts1):
        x, y = getattr(ts1, field.name), getattr(ts2, field.name)
        torch.testing.assert_close(x, y, rtol=0, atol=0, equal_nan=True, msg=f"{where}: {field.name}")


def test_sync_and_subproc_give_identical_timesteps():
    seed, steps = 5, 60
    runs = {}
    for vector in ("sync", "subproc"):
        with envs.make("mpe2/simple_spread", num_envs=3, vector=vector, seed=seed) as env:
            assert env.spec.backend == vector
            generator = torch.Generator().manual_seed(1)
            timestep = env.reset()
            record = [timestep]
            for _ in range(steps):
                timestep = env.step(envs.random_actions(env.spec, timestep.action_mask, generator))
                record.append(timestep)
            runs[vector] = record
    for t, (ts_sync, ts_subproc) in enumerate(zip(runs["sync"], runs["subproc"], strict=True)):
        _assert_same_timestep(ts_sync, ts_subproc, f"step {t}")
    ends = [t for t, ts in enumerate(runs["sync"]) if bool(ts.done.any())]
    assert ends == [25, 50]  # both runs crossed two autoresets
    assert not torch.isnan(runs["subproc"][25].info["episode_return"]).any()


def test_workers_are_separate_processes_and_close_leaves_none():
    env = envs.make("mpe2/simple_spread", num_envs=2, vector="subproc", seed=0)
    pids = env._vector.pids
    assert isinstance(env._vector, SubprocVector)
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert all(_alive(pid) for pid in pids)
    env.reset()
    env.close()
    assert _left_behind(pids) == []
    env.close()  # a second close is a no-op
    assert _left_behind(pids, timeout=0.0) == []


def test_context_manager_closes_the_workers():
    with envs.make("mpe2/simple_spread", num_envs=2, vector="subproc", seed=0) as env:
        pids = env._vector.pids
        env.reset()
    assert _left_behind(pids) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("dying", [0, 2])
def test_worker_that_dies_raises_env_worker_error(dying):
    env = flaky_vector(dying, fail_at=3, mode="exit")
    pids = env._vector.pids
    env.reset(seed=0)
    _step_ones(env)
    _step_ones(env)
    start = time.monotonic()
    with pytest.raises(
        envs.EnvWorkerError, match=rf"env copy {dying} \(worker pid {pids[dying]}\) died"
    ) as error:
        _step_ones(env)
    assert time.monotonic() - start < 10.0
    assert "exit code 3" in str(error.value)
    assert _left_behind(pids) == []
    env.close()  # still safe after the workers were shut down


@pytest.mark.timeout(60)
def test_worker_that_raises_reports_copy_and_exception():
    env = flaky_vector(1, fail_at=2, mode="raise")
    pids = env._vector.pids
    env.reset(seed=0)
    _step_ones(env)
    with pytest.raises(envs.EnvWorkerError, match=r"env copy 1 raised") as error:
        _step_ones(env)
    message = str(error.value)
    assert "RuntimeError: FlakyEnv exploded at step 2" in message
    assert "env copy 0" not in message and "env copy 2" not in message
    env.close()
    assert _left_behind(pids) == []


@pytest.mark.timeout(60)
def test_worker_whose_constructor_raises_reports_clearly():
    before = {p.pid for p in mp.active_children()}
    with pytest.raises(envs.EnvWorkerError, match=r"env copy 1 raised") as error:
        flaky_vector(1, num_envs=2, mode="init")
    assert "RuntimeError: FlakyEnv could not find its simulator licence" in str(error.value)
    workers = [
        p.pid for p in mp.active_children() if p.pid not in before and p.name.startswith("marlsuite-env-")
    ]
    # The healthy worker must not outlive the failed construction (while the caller still
    # holds the exception, as anyone who logs or re-raises it does).
    assert _left_behind(workers, timeout=3.0) == []
    del error
    gc.collect()


@pytest.mark.timeout(60)
def test_worker_whose_constructor_raises_leaves_no_process_once_collected():
    before = {p.pid for p in mp.active_children()}
    with pytest.raises(envs.EnvWorkerError):
        flaky_vector(0, num_envs=2, mode="init")
    gc.collect()
    workers = [
        p.pid for p in mp.active_children() if p.pid not in before and p.name.startswith("marlsuite-env-")
    ]
    assert _left_behind(workers) == []
