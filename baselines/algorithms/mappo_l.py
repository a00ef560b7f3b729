"""MAPPO-Lagrangian (Gu et al., 2023): MAPPO on the advantage A - lambda * A_cost (divided by
1 + lambda, which rescales but does not turn the objective), with the multiplier lambda
updated by dual ascent on the constraint c = (mean episode cost - limit) * (1 - gamma) and
kept non-negative."""

from __future__ import annotations

from typing import Any

import torch

from baselines.algorithms.mappo import MAPPO
from baselines.storage import Rollout


class MAPPOLagrangian(MAPPO):
    name = "mappo_l"
    metric_names = ("policy_loss", "entropy", "ratio_max", "lagrange_multiplier")
    needs_costs = True
    description = "MAPPO on A - lambda A_cost, lambda by dual ascent"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lagrange_multiplier = float(self.config.train.lagrangian_init)

    def actor_advantages(self, rollout: Rollout, context: dict[str, Any]) -> torch.Tensor:
        train = self.config.train
        c = (context["mean_episode_cost"] - context["cost_limit"]) * (1.0 - self.cost_gamma)
        self.lagrange_multiplier = max(0.0, self.lagrange_multiplier + train.lagrangian_lr * c)
        lam = self.lagrange_multiplier
        reward_adv = self.normalized(rollout.extras["advantages"])
        cost_adv = self.normalized(rollout.extras["cost_advantages"])
        return (reward_adv - lam * cost_adv) / (1.0 + lam)

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        metrics = super().update_actors(rollout, generator, context)
        metrics["lagrange_multiplier"] = self.lagrange_multiplier
        return metrics

    def extra_state(self) -> dict[str, Any]:
        return {"lagrange_multiplier": self.lagrange_multiplier}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.lagrange_multiplier = float(state["lagrange_multiplier"])
