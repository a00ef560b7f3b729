"""`TimeStep`: what `reset` and `step` return, batched over env copies."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

Tensors = dict[str, torch.Tensor]


@dataclass(slots=True)
class TimeStep:
    """One batched transition; the first dimension of every tensor is the env copy.

    - `obs`, `reward`, `cost` and `action_mask` map agent names to tensors.
    - `terminated`/`truncated` are per copy. A copy that finished has already been
      reset: `obs`/`state` show its new episode, `final_obs`/`final_state` the last
      step of the old one (equal to `obs`/`state` for copies that did not finish), so
      a learner can bootstrap truncated episodes from the right value; likewise
      `final_action_mask` (None when the task has no masks) is the mask of that last
      step, for a learner that maximises over the allowed actions there (QMIX).
    - `info` holds float tensors of shape `(num_envs,)`; a value that does not apply to
      a copy at this step (e.g. `episode_return` of an unfinished episode) is NaN.
    """

    obs: Tensors
    state: torch.Tensor
    reward: Tensors
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_obs: Tensors
    final_state: torch.Tensor
    cost: Tensors | None = None
    action_mask: Tensors | None = None
    info: Tensors = field(default_factory=dict)
    final_action_mask: Tensors | None = None

    @property
    def done(self) -> torch.Tensor:
        """Copies whose episode ended at this step (and were reset)."""
        return self.terminated | self.truncated
