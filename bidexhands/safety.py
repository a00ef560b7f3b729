"""Costs of the safe dexterous tasks (Safety-Gymnasium's Safe Isaac Gym hand tasks).

Safety-Gymnasium (PKU-Alignment/safety-gymnasium, safety_gymnasium/tasks/safe_isaac_gym/envs/
tasks/ShadowHand*_Safe_{joint,finger}.py, `compute_cost`) charges a cost of 1 at every step where
any of a few listed components of the clamped joint action lies outside [-0.5, 0.5], else 0. The
components index the actions of both hands stacked (hand0 first), so they all belong to hand0;
the same cost goes to every agent (`hand_base/multi_vec_task.py`, `step`). It reads the policy's
action, not the joint angles: the constraint is on what the policy commands.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# SafePO (PKU-Alignment/Safe-Policy-Optimization 8d0fa76), the algorithm side of these tasks:
# `--cost-limit` default 25.0 (safepo/utils/config.py:159, 205) and `cost_limit: 25` in
# safepo/multi_agent/marl_cfg/macpo/config.yaml:20 and mappolag/config.yaml:21, per episode.
SAFEPO_COST_LIMIT = 25.0
SAFEPO_COST_LIMIT_SOURCE = (
    "SafePO (PKU-Alignment/Safe-Policy-Optimization 8d0fa76): --cost-limit default 25.0 "
    "(safepo/utils/config.py:159) and cost_limit 25 in safepo/multi_agent/marl_cfg/{macpo,mappolag}/"
    "config.yaml, per episode; safety-gymnasium itself sets no limit"
)


@dataclass(frozen=True)
class ActionBandCost:
    """Cost 1 where any action `dims` of hand `hand` lies outside [-bound, bound] (strictly)."""

    dims: tuple[int, ...]
    hand: int = 0
    bound: float = 0.5
    limit: float = SAFEPO_COST_LIMIT
    limit_source: str = SAFEPO_COST_LIMIT_SOURCE
    source: str = ""  # the upstream file and lines the definition is transcribed from

    def __call__(self, hand_actions: torch.Tensor) -> torch.Tensor:
        """(N, 2 hands, n_act) clamped actions -> (N,) float32 cost."""
        watched = hand_actions[:, self.hand, list(self.dims)]
        return (watched.abs() > self.bound).any(dim=1).to(torch.float32)

    def describe(self) -> str:
        dims = ", ".join(str(d) for d in self.dims)
        return (
            f"1 if any of hand{self.hand}'s actions [{dims}] is outside [-{self.bound}, {self.bound}], else 0"
        )
