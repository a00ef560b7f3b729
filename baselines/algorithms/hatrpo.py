"""HATRPO (Kuba et al., 2022): HAPPO's sequential scheme with a trust-region step per agent:
the natural gradient (conjugate gradient on the KL's Hessian) scaled to `kl_threshold`,
then a backtracking line search that accepts a step only when the KL stays under the
threshold and the objective improves by at least `accept_ratio` of the expected gain."""

from __future__ import annotations

from typing import Any

import torch

from baselines.algorithms.base import detached, mean_kl
from baselines.algorithms.happo import HAPPO
from baselines.storage import Rollout
from baselines.trust_region import fisher_vector_product, flat_grad, flat_params, set_flat_params, trpo_step


class HATRPO(HAPPO):
    name = "hatrpo"
    metric_names = ("kl", "accepted", "expected_improve", "factor_mean")
    description = "sequential natural-gradient steps within a KL trust region, with line search"

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        advantages = self.normalized(rollout.extras["advantages"])
        factor = torch.ones_like(advantages)
        index = self.all_indices(rollout)
        metrics = {"kl": 0.0, "accepted": 0.0, "expected_improve": 0.0}
        for agent in self.agent_order(generator):
            old_all = rollout.log_probs[agent]
            result = self.trust_region_step(
                agent,
                rollout,
                index,
                self.samples(rollout, old_all, index),
                self.samples(rollout, advantages, index),
                self.samples(rollout, factor, index),
            )
            for key in metrics:
                metrics[key] += result[key] / len(self.agents)
            factor = factor * torch.exp(self.log_probs_all(agent, rollout) - old_all)
        metrics["factor_mean"] = float(factor.mean())
        return metrics

    def trust_region_step(
        self,
        agent: str,
        rollout: Rollout,
        index: torch.Tensor,
        old_log_probs: torch.Tensor,
        advantages: torch.Tensor,
        factor: torch.Tensor,
    ) -> dict[str, float]:
        train = self.config.train
        actor = self.actors[agent]
        log_probs, _, dist = self.evaluate(agent, rollout, index)
        objective = (factor * torch.exp(log_probs - old_log_probs) * advantages).mean()
        g = flat_grad(objective, actor, retain_graph=True)
        old_dist = detached(dist)
        fvp = fisher_vector_product(
            lambda: mean_kl(old_dist, self.evaluate(agent, rollout, index)[2]), actor, train.cg_damping
        )
        step = trpo_step(g, fvp, train.kl_threshold, train.cg_iters)
        expected = float(g @ step)
        start = flat_params(actor)
        baseline = float(objective.detach())
        for i in range(train.ls_steps):
            coef = train.backtrack_coeff**i
            set_flat_params(actor, start + coef * step)
            with torch.no_grad():
                new_log_probs, _, new_dist = self.evaluate(agent, rollout, index)
                improve = (
                    float((factor * torch.exp(new_log_probs - old_log_probs) * advantages).mean()) - baseline
                )
                kl = float(mean_kl(old_dist, new_dist))
            if (
                kl < train.kl_threshold
                and improve > 0
                and improve / (expected * coef + 1e-12) > train.accept_ratio
            ):
                return {"kl": kl, "accepted": 1.0, "expected_improve": expected}
        set_flat_params(actor, start)
        return {"kl": 0.0, "accepted": 0.0, "expected_improve": expected}
