"""Action checks run by every env before stepping (turn off with `validate_actions=False`).

The checks are compiled once per spec into one small checker per agent, and on CPU
they run on numpy views: the per-call cost of torch ops on tiny tensors would
otherwise dominate the step of a small simulator such as MPE.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import gymnasium as gym
import numpy as np
import torch

from envs.spec import EnvSpec

_INTEGER_DTYPES = frozenset({torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8})
_FLOAT_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})
_SUMMABLE = frozenset({torch.float16, torch.bfloat16, torch.float32})
# Below this many values a check is cheaper in plain Python than as numpy reductions.
_SMALL = 64


class ActionValidator:
    """Raises `ValueError` naming the agent, what was expected and what was received."""

    def __init__(self, spec: EnvSpec):
        self.agents = spec.agents
        self.agent_set = set(spec.agents)
        self.checks = {a: _AgentCheck(spec, a) for a in spec.agents}

    def __call__(
        self, actions: Mapping[str, torch.Tensor], action_mask: Mapping[str, torch.Tensor] | None
    ) -> None:
        if not isinstance(actions, Mapping):
            raise ValueError(
                f"actions must be a dict mapping agent names {list(self.agents)} to tensors, "
                f"got {type(actions).__name__}"
            )
        if actions.keys() != self.agent_set:
            missing = [a for a in self.agents if a not in actions]
            unexpected = [a for a in actions if a not in self.agent_set]
            raise ValueError(
                f"actions must have exactly one entry per agent {list(self.agents)}; "
                f"missing {missing}, unexpected {unexpected}"
            )
        for agent, check in self.checks.items():
            check(actions[agent], None if action_mask is None else action_mask[agent])


def validate_actions(
    spec: EnvSpec,
    actions: Mapping[str, torch.Tensor],
    action_mask: Mapping[str, torch.Tensor] | None = None,
) -> None:
    """One-off validation (envs keep an `ActionValidator` instead)."""
    ActionValidator(spec)(actions, action_mask)


class _AgentCheck:
    def __init__(self, spec: EnvSpec, agent: str):
        space = spec.action_spaces[agent]
        self.agent = agent
        self.space = space
        self.shape = (spec.num_envs, *space.shape)
        self.device = spec.device
        self.on_cpu = spec.device.type == "cpu"
        self.small = math.prod(self.shape) <= _SMALL
        self.discrete = isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete)
        # a few float values per step on the CPU: summed in Python, the cheapest finiteness check
        self.sum_check = not self.discrete and self.small and self.on_cpu and len(self.shape) == 2
        kind = "an integer" if self.discrete else "a floating-point"
        self.dtypes = _INTEGER_DTYPES if self.discrete else _FLOAT_DTYPES
        self.expected = f"a torch.Tensor of shape {self.shape} with {kind} dtype on {spec.device} ({space})"
        if isinstance(space, gym.spaces.Discrete):
            self.low, self.high = int(space.start), int(space.start + space.n)
            self.offsets = None
        elif isinstance(space, gym.spaces.MultiDiscrete):
            self.low = np.asarray(space.start)
            self.high = self.low + np.asarray(space.nvec)
            self.offsets = np.concatenate([[0], np.cumsum(space.nvec)[:-1]]).reshape(space.nvec.shape)

    def __call__(self, action: object, mask: torch.Tensor | None) -> None:
        if not isinstance(action, torch.Tensor):
            raise ValueError(f"agent '{self.agent}': expected {self.expected}, got {type(action).__name__}")
        dtype = action.dtype
        same_device = action.is_cpu if self.on_cpu else action.device == self.device
        if dtype not in self.dtypes or action.shape != self.shape or not same_device:
            raise ValueError(
                f"agent '{self.agent}': expected {self.expected}, got shape {tuple(action.shape)} "
                f"dtype {action.dtype} on {action.device}"
            )
        # float32 values cannot overflow a Python (float64) sum, so only NaN/inf make it non-finite
        if self.sum_check and dtype in _SUMMABLE and math.isfinite(sum(map(sum, action.tolist()))):
            return
        on_cpu = action.is_cpu
        if not self.discrete:
            x = action.detach().numpy() if on_cpu else action
            finite = np.isfinite(x) if on_cpu else torch.isfinite(x)
            if not bool(finite.all()):
                raise ValueError(
                    f"agent '{self.agent}': action has NaN or inf in copies {_copies_where(~finite)}; "
                    "actions must be finite"
                )
            return
        if self.offsets is None and on_cpu and self.small:
            # Python on a short list beats numpy reductions: this runs every step.
            values = action.tolist()
            if (
                self.low <= min(values)
                and max(values) < self.high
                and (
                    mask is None
                    or all(row[v - self.low] for row, v in zip(mask.tolist(), values, strict=True))
                )
            ):
                return
        x = action.detach().numpy() if on_cpu else action
        low, high, offsets = self._bounds_like(x)
        out = (x < low) | (x >= high)
        if bool(out.any()):
            bad = _copies_where(out)
            raise ValueError(
                f"agent '{self.agent}': action out of range in copies {bad} (got {_rows(x, bad)}); "
                f"{self.space} allows values in [{_text(self.low)}, {_text(self.high)})"
            )
        if mask is not None:
            self._check_mask(x, x - low + offsets, mask)

    def _bounds_like(self, x):
        """Bounds and mask offsets as scalars, numpy arrays or tensors on x's device."""
        if self.offsets is None:
            return self.low, self.high, 0
        if isinstance(x, np.ndarray):
            return self.low, self.high, self.offsets
        return tuple(torch.as_tensor(v, device=x.device) for v in (self.low, self.high, self.offsets))

    def _check_mask(self, x, index, mask: torch.Tensor) -> None:
        """`index` is each action's position in the (concatenated) mask."""
        m = mask.numpy() if mask.device.type == "cpu" else mask
        index = index.reshape(len(index), -1)
        if isinstance(m, np.ndarray):
            allowed = np.take_along_axis(m, index.astype(np.int64, copy=False), axis=1)
        else:
            allowed = torch.gather(m, 1, index.long())
        if not bool(allowed.all()):
            bad = _copies_where(~allowed)
            copy = bad[0]
            permitted = np.flatnonzero(np.asarray(m[copy].tolist())).tolist()
            raise ValueError(
                f"agent '{self.agent}': action {_rows(x, [copy])[0]} in copy {copy} is forbidden by the "
                f"action mask (allowed indices: {permitted}); forbidden in copies {bad}"
            )


def _text(bound) -> object:
    return bound.tolist() if isinstance(bound, np.ndarray) else bound


def _copies_where(flags) -> list[int]:
    flags = np.asarray(flags.tolist() if isinstance(flags, torch.Tensor) else flags)
    return np.flatnonzero(flags.reshape(len(flags), -1).any(axis=1)).tolist()


def _rows(x, rows: list[int]) -> list:
    return [x[i].tolist() for i in rows]
