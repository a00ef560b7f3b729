"""MAPPO (Yu et al., 2022): PPO-clip for every agent at once, with a centralised critic on
the global state; `train.share_param` gives all agents one actor."""

from __future__ import annotations

from typing import Any

import torch

from baselines.algorithms.base import OnPolicyAlgorithm
from baselines.storage import Rollout, minibatch_indices


class MAPPO(OnPolicyAlgorithm):
    name = "mappo"
    metric_names = ("policy_loss", "entropy", "ratio_max")
    description = "PPO-clip, all agents at once, centralised critic; parameter sharing optional"

    def actor_advantages(self, rollout: Rollout, context: dict[str, Any]) -> torch.Tensor:
        return self.normalized(rollout.extras["advantages"])

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        train = self.config.train
        advantages = self.actor_advantages(rollout, context)
        totals = {"policy_loss": 0.0, "entropy": 0.0, "ratio_max": 0.0}
        steps = 0
        for _ in range(train.ppo_epoch):
            for index in minibatch_indices(
                rollout.steps, rollout.num_envs, train.actor_minibatches, self.chunk, generator
            ):
                adv = self.samples(rollout, advantages, index)
                losses: dict[int, list[torch.Tensor]] = {}
                for agent in self.agents:
                    log_probs, entropy, _ = self.evaluate(agent, rollout, index)
                    old = self.samples(rollout, rollout.log_probs[agent], index)
                    loss, ratio = self.ppo_loss(log_probs, old, adv, entropy)
                    losses.setdefault(id(self.actors[agent]), []).append(loss)
                    totals["entropy"] += float(entropy.detach().mean()) / len(self.agents)
                    totals["ratio_max"] = max(totals["ratio_max"], float(ratio.detach().max()))
                for actor in self.unique_actors():
                    totals["policy_loss"] += self.ppo_actor_step(actor, losses[id(actor)]) / len(
                        self.unique_actors()
                    )
                steps += 1
        return {
            "policy_loss": totals["policy_loss"] / steps,
            "entropy": totals["entropy"] / steps,
            "ratio_max": totals["ratio_max"],
        }
