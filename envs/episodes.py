"""Episode statistics for natively batched envs (torch, any device).

`VectorEnv` records them per copy in numpy; an env that steps all copies at once in
torch (SMAX, MuJoCo Warp, your own) uses this tracker so that every family reports
`episode_return`, `episode_length` (and `episode_cost`) the same way: the team return
is the sum over steps of the mean reward over agents, NaN where no episode ended.
"""

from __future__ import annotations

import torch


class EpisodeStats:
    """Running per-copy sums; `update` returns the info entries for this step."""

    def __init__(self, num_envs: int, device: torch.device | str, *, with_cost: bool = False):
        self.with_cost = with_cost
        self._return = torch.zeros(num_envs, device=device)
        self._length = torch.zeros(num_envs, device=device)
        self._cost = torch.zeros(num_envs, device=device)

    @property
    def keys(self) -> tuple[str, ...]:
        return ("episode_return", "episode_length", *(("episode_cost",) if self.with_cost else ()))

    def reset(self) -> dict[str, torch.Tensor]:
        """Zero every copy; the info for a reset TimeStep (all NaN)."""
        self._return.zero_()
        self._length.zero_()
        self._cost.zero_()
        nan = torch.full_like(self._return, float("nan"))
        return {key: nan.clone() for key in self.keys}

    def update(
        self,
        reward: dict[str, torch.Tensor],
        done: torch.Tensor,
        cost: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Add this step, report finished episodes and restart their sums."""
        self._return += torch.stack(list(reward.values())).float().mean(0)
        self._length += 1
        info = {
            "episode_return": _where_done(done, self._return),
            "episode_length": _where_done(done, self._length),
        }
        if self.with_cost:
            if cost is None:
                raise ValueError("EpisodeStats(with_cost=True).update needs the step's cost")
            self._cost += torch.stack(list(cost.values())).float().mean(0)
            info["episode_cost"] = _where_done(done, self._cost)
        for total in (self._return, self._length, self._cost):
            total.masked_fill_(done, 0.0)
        return info


def _where_done(done: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    return torch.where(done, values, torch.full_like(values, float("nan")))
