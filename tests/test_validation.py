"""Action validation: every invalid action is refused with a `ValueError` that names the agent
and what was expected; `validate_actions=False` turns the checks off; `random_actions` only
samples valid actions."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from gymnasium.spaces import Box, Discrete, MultiDiscrete

import envs
from envs.spec import EnvSpec
from envs.validation import validate_actions

NUM_ENVS = 2


@pytest.fixture(scope="module")
def discrete_env():
    env = envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, seed=0)
    env.reset()
    yield env
    env.close()


@pytest.fixture(scope="module")
def continuous_env():
    env = envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, seed=0, continuous_actions=True)
    env.reset()
    yield env
    env.close()


@pytest.fixture(params=["discrete", "continuous"])
def any_env(request, discrete_env, continuous_env):
    return discrete_env if request.param == "discrete" else continuous_env


def valid(env) -> dict[str, torch.Tensor]:
    return envs.random_actions(env.spec, generator=torch.Generator().manual_seed(0))


def expected_text(env, agent: str) -> str:
    space = env.spec.action_spaces[agent]
    kind = "an integer" if isinstance(space, Discrete) else "a floating-point"
    return re.escape(
        f"agent '{agent}': expected a torch.Tensor of shape {(NUM_ENVS, *space.shape)} with {kind} dtype"
    )


def test_valid_actions_step(any_env):
    timestep = any_env.step(valid(any_env))
    assert timestep.reward["agent_0"].shape == (NUM_ENVS,)


def test_missing_agent(any_env):
    actions = valid(any_env)
    del actions["agent_1"]
    with pytest.raises(ValueError, match=re.escape("missing ['agent_1'], unexpected []")) as error:
        any_env.step(actions)
    assert "['agent_0', 'agent_1', 'agent_2']" in str(error.value)


def test_extra_agent(any_env):
    actions = {**valid(any_env), "agent_9": valid(any_env)["agent_0"]}
    with pytest.raises(ValueError, match=re.escape("missing [], unexpected ['agent_9']")):
        any_env.step(actions)


def test_not_a_dict(any_env):
    with pytest.raises(ValueError, match="actions must be a dict mapping agent names"):
        any_env.step(list(valid(any_env).values()))


@pytest.mark.parametrize("shape", ["more copies", "fewer copies", "extra dimension"])
def test_wrong_shape(any_env, shape):
    actions = valid(any_env)
    good = actions["agent_2"]
    bad = {
        "more copies": torch.cat([good, good[:1]]),
        "fewer copies": good[:1],
        "extra dimension": good[:, None],
    }[shape]
    actions["agent_2"] = bad
    with pytest.raises(ValueError, match=expected_text(any_env, "agent_2")) as error:
        any_env.step(actions)
    assert f"got shape {tuple(bad.shape)}" in str(error.value)


def test_float_for_discrete(discrete_env):
    actions = valid(discrete_env)
    actions["agent_0"] = actions["agent_0"].float()
    with pytest.raises(
        ValueError, match=expected_text(discrete_env, "agent_0") + ".*Discrete\\(5\\)"
    ) as error:
        discrete_env.step(actions)
    assert "dtype torch.float32" in str(error.value)


@pytest.mark.parametrize("dtype", [torch.bool, torch.float64])
def test_other_wrong_dtypes_for_discrete(discrete_env, dtype):
    actions = valid(discrete_env)
    actions["agent_1"] = actions["agent_1"].to(dtype)
    with pytest.raises(ValueError, match=expected_text(discrete_env, "agent_1")):
        discrete_env.step(actions)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_int_for_box(continuous_env, dtype):
    actions = valid(continuous_env)
    actions["agent_1"] = torch.zeros(NUM_ENVS, 5, dtype=dtype)
    with pytest.raises(
        ValueError, match=expected_text(continuous_env, "agent_1") + r".*Box\(0\.0, 1\.0, \(5,\)"
    ):
        continuous_env.step(actions)


def test_numpy_array_instead_of_tensor(any_env):
    actions = valid(any_env)
    actions["agent_0"] = actions["agent_0"].numpy()
    with pytest.raises(ValueError, match=expected_text(any_env, "agent_0") + ".*got ndarray"):
        any_env.step(actions)


def test_python_int_instead_of_tensor(discrete_env):
    actions = valid(discrete_env)
    actions["agent_0"] = 1
    with pytest.raises(ValueError, match=expected_text(discrete_env, "agent_0") + ".*got int"):
        discrete_env.step(actions)


@pytest.mark.parametrize(("values", "bad_copies"), [([-1, 0], [0]), ([0, 5], [1]), ([7, -3], [0, 1])])
def test_out_of_range_discrete(discrete_env, values, bad_copies):
    actions = valid(discrete_env)
    actions["agent_2"] = torch.tensor(values)
    text = f"agent 'agent_2': action out of range in copies {bad_copies}"
    with pytest.raises(ValueError, match=re.escape(text)) as error:
        discrete_env.step(actions)
    assert "Discrete(5) allows values in [0, 5)" in str(error.value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_box_action(continuous_env, bad):
    actions = valid(continuous_env)
    actions["agent_1"][1, 3] = bad
    with pytest.raises(
        ValueError, match=re.escape("agent 'agent_1': action has NaN or inf in copies [1]")
    ) as error:
        continuous_env.step(actions)
    assert "must be finite" in str(error.value)


def test_refused_step_leaves_the_env_unchanged(discrete_env):
    timestep = discrete_env.reset(seed=3)
    bad = valid(discrete_env)
    bad["agent_0"] = torch.tensor([9, 9])
    with pytest.raises(ValueError):
        discrete_env.step(bad)
    after_refusal = discrete_env.step(valid(discrete_env))
    discrete_env.reset(seed=3)
    reference = discrete_env.step(valid(discrete_env))
    for agent in discrete_env.spec.agents:
        torch.testing.assert_close(after_refusal.obs[agent], reference.obs[agent], rtol=0, atol=0)
    assert timestep.obs["agent_0"].shape == (NUM_ENVS, 18)


def test_box_action_that_requires_grad_is_accepted(continuous_env):
    """A policy's output still attached to the graph: `VectorEnv` detaches it (`_to_numpy`),
    but the validator calls `.numpy()` on it first, which raises a RuntimeError."""
    actions = valid(continuous_env)
    actions["agent_0"] = actions["agent_0"].clone().requires_grad_()
    timestep = continuous_env.step(actions)
    assert timestep.reward["agent_0"].shape == (NUM_ENVS,)


def test_device_with_an_index_accepts_its_own_actions():
    """`make(device="cpu:0")` (as `device="cuda"` vs tensors on `cuda:0`): tensors live on
    `cpu`, which compares unequal to `cpu:0`, so every action is refused."""
    with envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, seed=0, device="cpu:0") as env:
        timestep = env.reset()
        timestep = env.step(envs.random_actions(env.spec, timestep.action_mask))
        assert timestep.reward["agent_0"].shape == (NUM_ENVS,)


# --- validate_actions=False and the order of calls --------------------------------------


def test_validate_actions_false_turns_the_checks_off():
    with envs.make(
        "mpe2/simple_spread", num_envs=NUM_ENVS, seed=0, continuous_actions=True, validate_actions=False
    ) as env:
        assert env.validate_actions is False
        env.reset()
        actions = valid(env)
        actions["agent_0"][0, 1] = float("nan")
        # The suite lets it through; the NaN reaches PettingZoo's own wrapper, which refuses it.
        with pytest.raises(AssertionError, match="nan action"):
            env.step(actions)
    with envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, seed=0, validate_actions=False) as env:
        env.reset()
        actions = valid(env)
        actions["agent_0"] = actions["agent_0"].to(torch.int32)  # a dtype the checks would accept
        extra = {**actions, "agent_9": actions["agent_0"]}  # an unexpected agent is ignored
        timestep = env.step(extra)
        assert set(timestep.reward) == {"agent_0", "agent_1", "agent_2"}


def test_validate_actions_false_skips_the_refusal_checks_in_check_env():
    with envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, validate_actions=False) as env:
        envs.check_env(env, steps=30)


@pytest.mark.parametrize("vector", ["sync", "subproc"])
def test_step_before_reset_raises(vector):
    with envs.make("mpe2/simple_spread", num_envs=NUM_ENVS, vector=vector) as env:
        actions = envs.random_actions(env.spec)
        with pytest.raises(RuntimeError, match=re.escape("mpe2/simple_spread: call reset() before step()")):
            env.step(actions)
        env.reset(seed=0)
        env.step(actions)


# --- random_actions ---------------------------------------------------------------------

N = 600
BOX_LOW = np.array([-1.0, 0.0, 2.0, -np.inf], np.float32)
BOX_HIGH = np.array([1.0, 0.5, 3.0, np.inf], np.float32)


def sampling_spec(num_envs: int = N, masked: bool = False) -> EnvSpec:
    """Discrete, shifted Discrete and MultiDiscrete agents (masks cover every agent of a
    masked task, so only those with `masked`), plus two Box agents otherwise."""
    action_spaces = {"d": Discrete(6), "s": Discrete(4, start=-2), "md": MultiDiscrete([3, 4])}
    if not masked:
        action_spaces["box"] = Box(BOX_LOW, BOX_HIGH, dtype=np.float32)
        action_spaces["box64"] = Box(-2.0, -1.0, (2, 3), np.float64)
    return EnvSpec(
        name="test/sampling",
        family="test",
        backend="none",
        agents=tuple(action_spaces),
        observation_spaces={a: Box(-1.0, 1.0, (1,), np.float32) for a in action_spaces},
        action_spaces=action_spaces,
        state_space=Box(-1.0, 1.0, (1,), np.float32),
        num_envs=num_envs,
        device=torch.device("cpu"),
        has_action_masks=masked,
    )


def sampling_masks(n: int = N) -> dict[str, torch.Tensor]:
    rows = torch.arange(n)
    d = torch.zeros(n, 6, dtype=torch.bool)
    d[rows % 3 == 0, 0] = d[rows % 3 == 0, 5] = True  # {0, 5}
    d[rows % 3 == 1, 3] = True  # {3}
    d[rows % 3 == 2, 1] = d[rows % 3 == 2, 2] = d[rows % 3 == 2, 4] = True  # {1, 2, 4}
    s = torch.tensor([[False, True, False, True]]).repeat(n, 1)  # values -1 and 1
    md = torch.tensor([[1, 0, 1, 0, 0, 1, 0], [0, 1, 0, 1, 1, 0, 1]], dtype=torch.bool).repeat(n // 2, 1)
    return {"d": d, "s": s, "md": md}


def test_random_actions_respect_the_masks():
    spec = sampling_spec(masked=True)
    masks = sampling_masks()
    generator = torch.Generator().manual_seed(0)
    seen_d: dict[int, set] = {0: set(), 1: set(), 2: set()}
    for _ in range(5):
        actions = envs.random_actions(spec, masks, generator)
        d = actions["d"]
        assert d.shape == (N,) and d.dtype == torch.int64
        assert masks["d"][torch.arange(N), d].all(), "sampled a masked-out action for 'd'"
        for r in range(3):
            seen_d[r] |= set(d[r::3].tolist())
        assert set(actions["s"].tolist()) == {-1, 1}
        md = actions["md"]
        assert md.shape == (N, 2)
        assert set(md[0::2, 0].tolist()) == {0, 2} and set(md[0::2, 1].tolist()) == {2}
        assert set(md[1::2, 0].tolist()) == {1} and set(md[1::2, 1].tolist()) == {0, 1, 3}
        validate_actions(spec, actions, masks)  # the validator agrees
    assert seen_d == {0: {0, 5}, 1: {3}, 2: {1, 2, 4}}


def test_random_actions_without_masks_cover_the_spaces():
    spec = sampling_spec()
    actions = envs.random_actions(spec, generator=torch.Generator().manual_seed(1))
    assert set(actions["d"].tolist()) == set(range(6))
    assert set(actions["s"].tolist()) == {-2, -1, 0, 1}
    assert set(actions["md"][:, 0].tolist()) == {0, 1, 2} and set(actions["md"][:, 1].tolist()) == {
        0,
        1,
        2,
        3,
    }
    validate_actions(spec, actions)
    for agent, space in spec.action_spaces.items():
        for row in actions[agent].numpy():
            assert space.contains(np.asarray(row, dtype=space.dtype)), (agent, row)


def test_random_box_actions_stay_within_bounds():
    spec = sampling_spec()
    generator = torch.Generator().manual_seed(2)
    box = envs.random_actions(spec, generator=generator)["box"]
    assert box.shape == (N, 4) and box.dtype == torch.float32
    assert torch.isfinite(box).all()
    low, high = torch.from_numpy(BOX_LOW), torch.from_numpy(BOX_HIGH)
    assert ((box >= low) & (box <= high)).all()
    assert (box[:, 0] < -0.5).any() and (box[:, 0] > 0.5).any()  # spread over the interval
    assert (box[:, 3] < 0).any() and (box[:, 3] > 0).any()  # the unbounded dimension too
    box64 = envs.random_actions(spec, generator=generator)["box64"]
    assert box64.shape == (N, 2, 3) and box64.dtype == torch.float64
    assert ((box64 >= -2.0) & (box64 <= -1.0)).all()


def test_random_actions_on_mpe_continuous_stay_in_the_box(continuous_env):
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        actions = envs.random_actions(continuous_env.spec, generator=generator)
        for agent, action in actions.items():
            assert action.shape == (NUM_ENVS, 5) and action.dtype == torch.float32
            assert ((action >= 0) & (action <= 1)).all(), agent


def test_random_actions_are_reproducible_with_a_generator():
    spec = sampling_spec(num_envs=8, masked=True)
    masks = sampling_masks(8)
    first = envs.random_actions(spec, masks, torch.Generator().manual_seed(4))
    second = envs.random_actions(spec, masks, torch.Generator().manual_seed(4))
    for agent in spec.agents:
        torch.testing.assert_close(first[agent], second[agent], rtol=0, atol=0)


def test_validator_refuses_masked_actions_of_a_multidiscrete_agent():
    spec = sampling_spec(num_envs=2, masked=True)
    masks = sampling_masks(2)
    actions = envs.random_actions(spec, masks, torch.Generator().manual_seed(5))
    actions["md"] = torch.tensor([[0, 2], [1, 2]])  # copy 1: 2 is not in {0, 1, 3}
    with pytest.raises(
        ValueError, match=r"agent 'md': action \[1, 2\] in copy 1 is forbidden by the action mask"
    ):
        validate_actions(spec, actions, masks)


def start_spec() -> EnvSpec:
    """gymnasium's MultiDiscrete has a `start`, as Discrete does (which both handle)."""
    space = MultiDiscrete([3, 4], start=[1, -1])  # values in [1, 4) x [-1, 3)
    return EnvSpec(
        name="test/start",
        family="test",
        backend="none",
        agents=("a",),
        observation_spaces={"a": Box(-1.0, 1.0, (1,), np.float32)},
        action_spaces={"a": space},
        state_space=Box(-1.0, 1.0, (1,), np.float32),
        num_envs=64,
        device=torch.device("cpu"),
    )


def test_random_actions_respect_multidiscrete_start():
    spec = start_spec()
    space = spec.action_spaces["a"]
    actions = envs.random_actions(spec, generator=torch.Generator().manual_seed(6))
    assert all(space.contains(row) for row in actions["a"].numpy()), actions["a"][:4].tolist()


def test_validator_respects_multidiscrete_start():
    spec = start_spec()
    validate_actions(spec, {"a": torch.tensor([[3, 2]] * 64)})  # the largest valid action
    with pytest.raises(ValueError, match="agent 'a': action out of range"):
        validate_actions(spec, {"a": torch.tensor([[0, 0]] * 64)})  # 0 < start 1
