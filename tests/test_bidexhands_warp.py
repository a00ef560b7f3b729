"""Bi-DexHands on the MuJoCo Warp backend (CPU here): conformance, and agreement with the C
MuJoCo backend for the same seed and actions.

Warp compiles its kernels for each model on first use (about a minute on a CPU, cached in
~/.cache/warp afterwards), so CI covers ShadowHandOver and the other tasks run under `slow`.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("mujoco_warp")
pytest.importorskip("gymnasium_robotics")

import envs  # noqa: E402
from bidexhands.tasks import TASKS  # noqa: E402

# Agreement over a 15-step rollout of random actions from the same seed: every observation and
# state entry within OBS_ATOL, the team reward within REWARD_ATOL (measured: 4e-4 and 2e-6).
STEPS = 15
OBS_ATOL = 1e-2
REWARD_ATOL = 1e-4


@pytest.fixture(scope="module")
def warp_env():
    env = envs.make("bidexhands/ShadowHandOver", num_envs=2, seed=0, backend="warp")
    yield env
    env.close()


def test_check_env_warp(warp_env):
    assert warp_env.spec.backend == "warp"
    envs.check_env(warp_env)


def _rollout(env):
    generator = torch.Generator().manual_seed(1)
    record = [env.reset(seed=0)]
    for _ in range(STEPS):
        actions = {a: 2 * torch.rand(2, 20, generator=generator) - 1 for a in env.spec.agents}
        record.append(env.step(actions))
    return record


def test_backends_agree_on_a_short_rollout(warp_env):
    cpu = envs.make("bidexhands/ShadowHandOver", num_envs=2, seed=0, backend="mujoco")
    reference, tested = _rollout(cpu), _rollout(warp_env)
    for t, (a, b) in enumerate(zip(reference, tested, strict=True)):
        for agent in a.obs:
            torch.testing.assert_close(a.obs[agent], b.obs[agent], atol=OBS_ATOL, rtol=0, msg=f"obs step {t}")
            torch.testing.assert_close(
                a.reward[agent], b.reward[agent], atol=REWARD_ATOL, rtol=0, msg=f"reward step {t}"
            )
        torch.testing.assert_close(a.state, b.state, atol=OBS_ATOL, rtol=0, msg=f"state step {t}")
        assert torch.equal(a.done, b.done)
    # the rollout moved things: agreement is not two frozen scenes
    assert (reference[-1].state - reference[0].state).abs().max() > 0.1


def test_default_backend_is_mujoco_on_cpu():
    env = envs.make("bidexhands/ShadowHandOver", num_envs=1)
    assert env.spec.backend == "mujoco"


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(set(TASKS) - {"ShadowHandOver"}))
def test_check_env_warp_other_tasks(task):
    envs.check_env(envs.make(f"bidexhands/{task}", num_envs=2, seed=0, backend="warp"))


@pytest.mark.gpu
def test_cuda_warp_is_default_and_zero_copy():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    env = envs.make("bidexhands/ShadowHandOver", num_envs=64, device="cuda", seed=0)
    assert env.spec.backend == "warp"
    envs.check_env(env)
    import warp as wp

    qpos = wp.to_torch(env.physics.d.qpos)
    assert qpos.data_ptr() == env.physics._qpos.data_ptr()  # torch views the warp array itself
    ts = env.step({a: torch.zeros(64, 20, device="cuda") for a in env.spec.agents})
    assert ts.state.device.type == "cuda"
