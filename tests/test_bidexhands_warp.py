"""Bi-DexHands on the MuJoCo Warp backend (CPU here): conformance, and agreement with the C
MuJoCo backend for the same seed and actions.

Warp compiles its kernels for each model on first use (about a minute on a CPU, cached in
~/.cache/warp afterwards), so CI covers ShadowHandOver and the other tasks (conformance and agreement) run under `slow`.
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
    widths = {a: env.spec.action_spaces[a].shape[0] for a in env.spec.agents}
    for _ in range(STEPS):
        actions = {a: 2 * torch.rand(2, n, generator=generator) - 1 for a, n in widths.items()}
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


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(set(TASKS) - {"ShadowHandOver"}))
def test_backends_agree_on_every_task(task):
    """The same 15-step rollout on both backends. Where the hands strike an object (the catch
    tasks, ReOrientation) the float32 Warp and float64 C contact solutions part at single
    entries, so the state is checked by its differences' mean (measured <= 1.1e-4 over the 23
    tasks), 99.9th percentile (<= 0.02) and maximum (<= 0.30: a fingertip force x 10 at the
    first contact in CatchOver2Underarm); rewards within 5e-3 (<= 1.8e-3, ReOrientation); the
    same steps end episodes; the same costs."""
    cpu = envs.make(f"bidexhands/{task}", num_envs=2, seed=0, backend="mujoco")
    warp = envs.make(f"bidexhands/{task}", num_envs=2, seed=0, backend="warp")
    reference, tested = _rollout(cpu), _rollout(warp)
    diff = torch.stack([(a.state - b.state).abs() for a, b in zip(reference, tested, strict=True)])
    assert diff.mean() < 1e-3 and diff.flatten().quantile(0.999) < 0.05 and diff.max() < 0.5
    for a, b in zip(reference, tested, strict=True):
        torch.testing.assert_close(a.reward["hand0"], b.reward["hand0"], atol=5e-3, rtol=0)
        assert torch.equal(a.done, b.done)
        if a.cost is not None:
            assert all(torch.equal(a.cost[agent], b.cost[agent]) for agent in a.cost)
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


@pytest.mark.slow
def test_warp_gives_hand_door_contacts_physx_friction():
    """The door geoms' contact priority (PhysX's averaged friction, 0.55) holds on Warp too."""
    import mujoco
    import numpy as np

    env = envs.make("bidexhands/ShadowHandDoorOpenOutward", num_envs=1, seed=0, backend="warp")
    env.reset(seed=0)
    model = env.scene.model
    qpos, _ = env.physics.world_state(0)
    data = mujoco.MjData(model)
    data.qpos[:] = qpos
    mujoco.mj_forward(model, data)
    palm_x = float(data.xpos[model.body("hand0_robot0:palm").id][0])
    base = int(model.jnt_qposadr[model.joint("hand0_base").id])
    env.physics._qpos[0, base] -= palm_x + 0.005  # the palm just through the closed leaf's plane
    zero = {a: torch.zeros(1, *env.spec.action_spaces[a].shape) for a in env.agents}
    env.step(zero)
    count = int(env.physics.d.nacon.numpy()[0])
    geoms = env.physics.d.contact.geom.numpy()[:count]
    friction = env.physics.d.contact.friction.numpy()[:count, 0]
    names = [(model.geom(int(a)).name, model.geom(int(b)).name) for a, b in geoms]
    door = [f for (a, b), f in zip(names, friction, strict=True) if "leaf" in a + b and "hand0_" in a + b]
    assert door and np.allclose(door, 0.55)
    env.close()
