"""MACPO (Gu et al., 2023): HAPPO's sequential scheme with a cost critic and a CPO step per
agent and mini-batch: reward and cost gradients of the factor-weighted surrogates, the
constraint c = (mean episode cost - limit) * (1 - gamma), a trust region of size
`kl_threshold`, and a backtracking line search (fraction `backtrack_coeff`) that accepts a
step only when the KL, the objective and the cost all pass. As in MACPO's trainer
(r_macpo.py), each agent takes one CPO step on each of `actor_minibatches` random mini-batches
of the rollout (one pass), the cost advantages are standardised like the reward ones, and each
step is capped in norm and scaled (`max_step_norm`, `step_fraction`) before the line search."""

from __future__ import annotations

from typing import Any

import torch

from baselines.algorithms.base import detached, mean_kl
from baselines.algorithms.happo import HAPPO
from baselines.storage import Rollout, minibatch_indices
from baselines.trust_region import (
    capped_step,
    cpo_step,
    fisher_vector_product,
    flat_grad,
    flat_params,
    set_flat_params,
)


class MACPO(HAPPO):
    name = "macpo"
    metric_names = ("kl", "accepted", "constraint_c", "cpo_case_mean")
    needs_costs = True
    description = "sequential constrained policy optimisation (CPO steps) with a cost critic"

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        advantages = self.normalized(rollout.extras["advantages"])
        # standardised like the reward advantages, as MACPO's trainer does: the cost surrogate's
        # gradient b is then in units of the advantages' spread, not of raw per-step costs
        cost_advantages = self.normalized(rollout.extras["cost_advantages"])
        c = (context["mean_episode_cost"] - context["cost_limit"]) * (1.0 - self.cost_gamma)
        factor = torch.ones_like(advantages)
        minibatches = self.config.train.actor_minibatches
        metrics = {"kl": 0.0, "accepted": 0.0, "constraint_c": c}
        cases = []
        for agent in self.agent_order(generator):
            old_all = rollout.log_probs[agent]
            for index in minibatch_indices(
                rollout.steps, rollout.num_envs, minibatches, self.chunk, generator
            ):
                result = self.cpo_update(
                    agent,
                    rollout,
                    index,
                    c,
                    self.samples(rollout, old_all, index),
                    self.samples(rollout, advantages, index),
                    self.samples(rollout, cost_advantages, index),
                    self.samples(rollout, factor, index),
                )
                metrics["kl"] += result["kl"]
                metrics["accepted"] += result["accepted"]
                cases.append(result["case"])
            factor = factor * torch.exp(self.log_probs_all(agent, rollout) - old_all)
        metrics["kl"] /= len(cases)  # per step: each step's KL is from the policy before it
        metrics["accepted"] /= len(cases)
        metrics["cpo_case_mean"] = sum(cases) / len(cases)
        return metrics

    def cpo_update(
        self,
        agent: str,
        rollout: Rollout,
        index: torch.Tensor,
        c: float,
        old_log_probs: torch.Tensor,
        advantages: torch.Tensor,
        cost_advantages: torch.Tensor,
        factor: torch.Tensor,
    ) -> dict[str, float]:
        train = self.config.train
        actor = self.actors[agent]
        log_probs, _, dist = self.evaluate(agent, rollout, index)
        ratio = torch.exp(log_probs - old_log_probs)
        objective = (factor * ratio * advantages).mean()
        cost_objective = (factor * ratio * cost_advantages).mean()
        g = flat_grad(objective, actor, retain_graph=True)
        b = flat_grad(cost_objective, actor, retain_graph=True)
        old_dist = detached(dist)
        fvp = fisher_vector_product(
            lambda: mean_kl(old_dist, self.evaluate(agent, rollout, index)[2]), actor, train.cg_damping
        )
        solution = cpo_step(g, b, c, fvp, train.kl_threshold, train.cg_iters)
        step = capped_step(solution.step, train.max_step_norm, train.step_fraction)
        start = flat_params(actor)
        base_objective, base_cost = float(objective.detach()), float(cost_objective.detach())
        for i in range(train.ls_steps):
            coef = train.backtrack_coeff**i
            set_flat_params(actor, start + coef * step)
            with torch.no_grad():
                new_log_probs, _, new_dist = self.evaluate(agent, rollout, index)
                new_ratio = torch.exp(new_log_probs - old_log_probs)
                improve = float((factor * new_ratio * advantages).mean()) - base_objective
                cost_change = float((factor * new_ratio * cost_advantages).mean()) - base_cost
                kl = float(mean_kl(old_dist, new_dist))
            kl_ok = kl <= train.kl_threshold
            cost_ok = cost_change <= max(-c, 0.0)
            objective_ok = improve >= 0 if solution.case > 1 else True  # recovery steps only need the cost
            if kl_ok and cost_ok and objective_ok:
                return {"kl": kl, "accepted": 1.0, "case": solution.case}
        set_flat_params(actor, start)
        return {"kl": 0.0, "accepted": 0.0, "case": solution.case}
