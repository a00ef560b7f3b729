"""`check_env`: the conformance check every task family's tests run.

It checks that what `reset` and `step` return matches the spec (keys, shapes, dtypes,
devices, bounds), that autoreset keeps final values and reports episode statistics,
that the same seed and actions give the same numbers, and that invalid actions are
refused.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch

from envs.core import MultiAgentEnv
from envs.sampling import random_actions
from envs.spec import EnvSpec, torch_dtype
from envs.timestep import TimeStep


class EnvCheckError(AssertionError):
    """An env that breaks the suite's API contract."""


def check_env(env: MultiAgentEnv, *, steps: int = 60, seed: int = 0) -> None:
    """Raise `EnvCheckError` describing the first violation found.

    Runs at least one full episode per copy when `max_episode_steps` is known (up to
    1000 steps), so the autoreset path is exercised.
    """
    spec = env.spec
    _check_spec(spec)
    if spec.max_episode_steps is not None and spec.max_episode_steps < 1000:
        steps = max(steps, spec.max_episode_steps + 1)
    first = _rollout(env, steps, seed)
    second = _rollout(env, steps, seed, actions=[a for _, a in first])
    for t, ((ts1, _), (ts2, _)) in enumerate(zip(first, second, strict=False)):
        _expect_same(ts1, ts2, f"determinism: step {t} differs between two runs with seed {seed}")
    if env.validate_actions:
        _check_refuses_invalid(env, seed)


def _check_spec(spec: EnvSpec) -> None:
    _expect(isinstance(spec, EnvSpec), f"env.spec must be an EnvSpec, got {type(spec).__name__}")
    _expect(len(spec.agents) > 0, "spec.agents is empty")
    _expect(isinstance(spec.state_space, gym.spaces.Box), "spec.state_space must be a Box")
    for agent in spec.agents:
        obs = spec.observation_spaces[agent]
        act = spec.action_spaces[agent]
        _expect(isinstance(obs, gym.spaces.Box), f"{agent}: observation space must be a Box, got {obs}")
        _expect(
            isinstance(act, gym.spaces.Box | gym.spaces.Discrete | gym.spaces.MultiDiscrete),
            f"{agent}: action space must be Box, Discrete or MultiDiscrete, got {act}",
        )
        if spec.has_action_masks:
            _expect(
                not isinstance(act, gym.spaces.Box),
                f"{agent}: has_action_masks needs discrete action spaces, got {act}",
            )


def _rollout(
    env: MultiAgentEnv, steps: int, seed: int, actions: list | None = None
) -> list[tuple[TimeStep, dict[str, torch.Tensor] | None]]:
    spec = env.spec
    timestep = env.reset(seed=seed)
    _check_timestep(spec, timestep, "reset")
    _expect(not bool(timestep.done.any()), "reset: terminated/truncated must be all False")
    _expect_same_values(timestep.final_obs, timestep.obs, "reset: final_obs must equal obs")
    if timestep.action_mask is not None and timestep.final_action_mask is not None:
        _expect_same_values(
            timestep.final_action_mask,
            timestep.action_mask,
            "reset: final_action_mask must equal action_mask",
        )
    generator = torch.Generator(device=spec.device).manual_seed(seed)
    record = [(timestep, None)]
    ended = torch.zeros(spec.num_envs, dtype=torch.bool, device=spec.device)
    endings = unchanged = 0
    for t in range(steps):
        action = random_actions(spec, timestep.action_mask, generator) if actions is None else actions[t + 1]
        timestep = env.step(action)
        where = f"step {t + 1}"
        _check_timestep(spec, timestep, where)
        _check_autoreset(spec, timestep, where)
        ended |= timestep.done
        for copy in torch.nonzero(timestep.done).flatten().tolist():
            endings += 1
            unchanged += all(
                torch.equal(timestep.final_obs[a][copy], timestep.obs[a][copy]) for a in spec.agents
            )
        record.append((timestep, action))
    _expect(
        endings < 2 or unchanged < endings,
        f"final_obs equals the next episode's first obs at every one of {endings} episode ends: "
        "the final observation of finished episodes seems to be lost in the autoreset",
    )
    if spec.max_episode_steps is not None and steps > spec.max_episode_steps:
        _expect(
            bool(ended.all()),
            f"copies {_where(~ended)} ran {steps} steps without an episode ending, "
            f"but max_episode_steps is {spec.max_episode_steps}",
        )
    return record


def _check_timestep(spec: EnvSpec, ts: TimeStep, where: str) -> None:
    n = spec.num_envs
    _expect(isinstance(ts, TimeStep), f"{where}: must return a TimeStep, got {type(ts).__name__}")
    for label, values in (("obs", ts.obs), ("final_obs", ts.final_obs)):
        _expect_keys(values, spec.agents, f"{where}: {label}")
        for agent, space in spec.observation_spaces.items():
            _expect_tensor(
                values[agent], (n, *space.shape), torch_dtype(space), spec, f"{where}: {label}[{agent}]"
            )
            _expect_in_box(values[agent], space, f"{where}: {label}[{agent}]")
    for label, value in (("state", ts.state), ("final_state", ts.final_state)):
        _expect_tensor(
            value, (n, *spec.state_space.shape), torch_dtype(spec.state_space), spec, f"{where}: {label}"
        )
    _expect_keys(ts.reward, spec.agents, f"{where}: reward")
    for agent in spec.agents:
        _expect_tensor(ts.reward[agent], (n,), torch.float32, spec, f"{where}: reward[{agent}]")
        _expect(bool(torch.isfinite(ts.reward[agent]).all()), f"{where}: reward[{agent}] is not finite")
    _expect((ts.cost is not None) == spec.has_costs, f"{where}: cost must be given iff spec.has_costs")
    if ts.cost is not None:
        _expect_keys(ts.cost, spec.agents, f"{where}: cost")
        for agent in spec.agents:
            _expect_tensor(ts.cost[agent], (n,), torch.float32, spec, f"{where}: cost[{agent}]")
    for label, value in (("terminated", ts.terminated), ("truncated", ts.truncated)):
        _expect_tensor(value, (n,), torch.bool, spec, f"{where}: {label}")
    _expect(
        (ts.action_mask is not None) == spec.has_action_masks,
        f"{where}: action_mask must be given iff spec.has_action_masks",
    )
    _expect(
        (ts.final_action_mask is not None) == spec.has_action_masks,
        f"{where}: final_action_mask must be given iff spec.has_action_masks",
    )
    for label, masks in (("action_mask", ts.action_mask), ("final_action_mask", ts.final_action_mask)):
        if masks is None:
            continue
        _expect_keys(masks, spec.agents, f"{where}: {label}")
        for agent in spec.agents:
            mask = masks[agent]
            _expect_tensor(
                mask, (n, spec.action_mask_size(agent)), torch.bool, spec, f"{where}: {label}[{agent}]"
            )
            _expect(
                bool(mask.any(dim=1).all()),
                f"{where}: {label}[{agent}] allows no action in copies {_where(~mask.any(dim=1))}",
            )
    _expect_keys(ts.info, spec.info_keys, f"{where}: info")
    for key in spec.info_keys:
        _expect_tensor(ts.info[key], (n,), torch.float32, spec, f"{where}: info[{key}]")


def _check_autoreset(spec: EnvSpec, ts: TimeStep, where: str) -> None:
    running = ~ts.done
    for agent in spec.agents:
        _expect(
            torch.equal(ts.final_obs[agent][running], ts.obs[agent][running]),
            f"{where}: final_obs[{agent}] must equal obs for copies whose episode did not end",
        )
    _expect(
        torch.equal(ts.final_state[running], ts.state[running]),
        f"{where}: final_state must equal state for copies whose episode did not end",
    )
    if ts.action_mask is not None and ts.final_action_mask is not None:
        for agent in spec.agents:
            _expect(
                torch.equal(ts.final_action_mask[agent][running], ts.action_mask[agent][running]),
                f"{where}: final_action_mask[{agent}] must equal action_mask for copies whose episode did not end",
            )
    for key in ("episode_return", "episode_length"):
        if key not in ts.info:
            continue
        value = ts.info[key]
        _expect(
            bool(torch.isfinite(value[ts.done]).all()),
            f"{where}: info[{key}] must be finite where an episode ended",
        )
        _expect(
            bool(torch.isnan(value[running]).all()),
            f"{where}: info[{key}] must be NaN where no episode ended",
        )
    if "episode_length" in ts.info and spec.max_episode_steps is not None:
        lengths = ts.info["episode_length"][ts.done]
        _expect(
            bool((lengths <= spec.max_episode_steps).all()),
            f"{where}: episode_length {lengths.tolist()} exceeds max_episode_steps {spec.max_episode_steps}",
        )


def _check_refuses_invalid(env: MultiAgentEnv, seed: int) -> None:
    spec = env.spec
    timestep = env.reset(seed=seed)
    valid = random_actions(spec, timestep.action_mask, torch.Generator(spec.device).manual_seed(seed))
    first = spec.agents[0]
    broken = {k: v for k, v in valid.items() if k != first}
    _expect_raises(env, broken, f"actions without agent {first!r}")
    for agent, space in spec.action_spaces.items():
        bad = valid[agent].clone()
        if isinstance(space, gym.spaces.Box):
            bad.view(-1)[0] = math.nan
            _expect_raises(env, {**valid, agent: bad}, f"a NaN action for {agent!r}")
        else:
            bad.view(-1)[0] = int(np.max(getattr(space, "nvec", getattr(space, "n", 0)))) + 10**6
            _expect_raises(env, {**valid, agent: bad}, f"an out-of-range action for {agent!r}")
        wrong_shape = valid[agent].reshape(-1)[:1].repeat(spec.num_envs + 1)
        _expect_raises(env, {**valid, agent: wrong_shape}, f"a wrongly shaped action for {agent!r}")
        if timestep.action_mask is not None:
            mask = timestep.action_mask[agent]
            if isinstance(space, gym.spaces.Discrete) and not bool(mask[0].all()):
                forbidden = valid[agent].clone()
                forbidden[0] = int(torch.nonzero(~mask[0])[0, 0]) + int(space.start)
                _expect_raises(env, {**valid, agent: forbidden}, f"an action forbidden by {agent!r}'s mask")


def _expect_raises(env: MultiAgentEnv, actions: dict, what: str) -> None:
    try:
        env.step(actions)
    except ValueError:
        return
    except Exception as error:
        raise EnvCheckError(
            f"step() raised {type(error).__name__} for {what}; it must raise ValueError"
        ) from error
    raise EnvCheckError(f"step() accepted {what}; it must raise ValueError")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise EnvCheckError(message)


def _expect_keys(values: dict, expected: tuple[str, ...], where: str) -> None:
    _expect(isinstance(values, dict), f"{where}: must be a dict, got {type(values).__name__}")
    _expect(set(values) == set(expected), f"{where}: keys {sorted(values)} != expected {sorted(expected)}")


def _expect_tensor(value, shape: tuple, dtype: torch.dtype, spec: EnvSpec, where: str) -> None:
    _expect(isinstance(value, torch.Tensor), f"{where}: must be a torch.Tensor, got {type(value).__name__}")
    _expect(
        tuple(value.shape) == tuple(shape), f"{where}: shape {tuple(value.shape)} != expected {tuple(shape)}"
    )
    _expect(value.dtype == dtype, f"{where}: dtype {value.dtype} != expected {dtype}")
    _expect(value.device == spec.device, f"{where}: device {value.device} != spec.device {spec.device}")


def _expect_in_box(value: torch.Tensor, space: gym.spaces.Box, where: str) -> None:
    array = value.detach().cpu().numpy()
    inside = np.all((array >= space.low) & (array <= space.high), axis=tuple(range(1, array.ndim)))
    _expect(
        bool(inside.all()),
        f"{where}: outside the observation space in copies {np.flatnonzero(~inside).tolist()}",
    )


def _expect_same_values(a: dict, b: dict, message: str) -> None:
    _expect(all(torch.equal(a[k], b[k]) for k in a), message)


def _expect_same(a: TimeStep, b: TimeStep, message: str) -> None:
    try:
        for name in (
            "obs",
            "state",
            "reward",
            "terminated",
            "truncated",
            "final_obs",
            "final_state",
            "cost",
            "action_mask",
            "final_action_mask",
            "info",
        ):
            x, y = getattr(a, name), getattr(b, name)
            torch.testing.assert_close(x, y, rtol=0, atol=0, equal_nan=True)
    except AssertionError as error:
        raise EnvCheckError(f"{message} ({name}): {error}") from None


def _where(flags: torch.Tensor) -> list[int]:
    return torch.nonzero(flags).flatten().tolist()
