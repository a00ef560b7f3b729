"""HAPPO (Kuba et al., 2022): agents updated one after another in a random order; agent m's
PPO-clip objective is weighted by M, the product over the agents already updated of
pi_new / pi_old on the same batch. The critic is trained after the actors."""

from __future__ import annotations

from typing import Any

import torch

from baselines.algorithms.base import OnPolicyAlgorithm
from baselines.storage import Rollout, minibatch_indices


class HAPPO(OnPolicyAlgorithm):
    name = "happo"
    metric_names = ("policy_loss", "entropy", "factor_mean", "factor_max")
    allows_shared_params = False
    description = "sequential PPO-clip weighted by the updated agents' ratio product M"

    def agent_order(self, generator: torch.Generator) -> list[str]:
        if self.config.train.fixed_order:
            return list(self.agents)
        return [self.agents[i] for i in torch.randperm(len(self.agents), generator=generator).tolist()]

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        train = self.config.train
        advantages = self.normalized(rollout.extras["advantages"])
        factor = torch.ones_like(advantages)
        policy_loss = entropy_sum = 0.0
        steps = 0
        order = self.agent_order(generator)
        for agent in order:
            old_all = rollout.log_probs[agent]
            for _ in range(train.ppo_epoch):
                for index in minibatch_indices(
                    rollout.steps, rollout.num_envs, train.actor_minibatches, self.chunk, generator
                ):
                    log_probs, entropy, _ = self.evaluate(agent, rollout, index)
                    loss, _ = self.ppo_loss(
                        log_probs,
                        self.samples(rollout, old_all, index),
                        self.samples(rollout, advantages, index),
                        entropy,
                        self.samples(rollout, factor, index),
                    )
                    policy_loss += self.ppo_actor_step(self.actors[agent], [loss])
                    entropy_sum += float(entropy.detach().mean())
                    steps += 1
            factor = factor * torch.exp(self.log_probs_all(agent, rollout) - old_all)
        return {
            "policy_loss": policy_loss / steps,
            "entropy": entropy_sum / steps,
            "factor_mean": float(factor.mean()),
            "factor_max": float(factor.max()),
        }
