"""`MultiAgentEnv`: the one interface every task family implements."""

from __future__ import annotations

import abc
from collections.abc import Mapping

import torch

from envs.spec import EnvSpec
from envs.timestep import TimeStep
from envs.validation import ActionValidator


class MultiAgentEnv(abc.ABC):
    """A batch of `spec.num_envs` copies of a multi-agent task on `spec.device`.

    Subclasses implement `_reset` and `_step`; this class owns the contract around
    them: the seed given to `make` is used by the first `reset`, actions are
    validated against the spec and the last action masks unless
    `validate_actions=False`, and `step` before `reset` is an error.
    """

    spec: EnvSpec

    def __init__(self, spec: EnvSpec, *, seed: int | None = None, validate_actions: bool = True):
        self.spec = spec
        self.validate_actions = validate_actions
        self._initial_seed = seed
        self._has_reset = False
        self._action_mask: dict[str, torch.Tensor] | None = None
        self._validator: ActionValidator | None = None

    def reset(self, seed: int | None = None) -> TimeStep:
        """Reset every copy. Copy i is seeded with `seed + i`; `None` continues the RNG."""
        if seed is None and not self._has_reset:
            seed = self._initial_seed
        timestep = self._reset(seed)
        self._has_reset = True
        self._action_mask = timestep.action_mask
        return timestep

    def step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep:
        """Step every copy; copies whose episode ends are reset (see `TimeStep`)."""
        if not self._has_reset:
            raise RuntimeError(f"{self.spec.name}: call reset() before step()")
        if self.validate_actions:
            if self._validator is None:
                self._validator = ActionValidator(self.spec)
            self._validator(actions, self._action_mask)
        timestep = self._step(actions)
        self._action_mask = timestep.action_mask
        return timestep

    def close(self) -> None:  # noqa: B027 - optional hook: most in-process envs hold nothing
        """Release simulator resources (processes, GPU memory)."""

    @abc.abstractmethod
    def _reset(self, seed: int | None) -> TimeStep: ...

    @abc.abstractmethod
    def _step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep: ...

    def __enter__(self) -> MultiAgentEnv:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.spec
        return f"<{type(self).__name__} {s.name} num_envs={s.num_envs} device={s.device}>"
