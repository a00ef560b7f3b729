"""What the on-policy algorithms share: actors per agent (or one shared), a centralised
critic (and a cost critic for safe RL), acting, advantage estimation and critic training.

Each algorithm file only implements `update_actors`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from baselines.config import RunConfig
from baselines.networks import Actor, Critic
from baselines.normalization import ValueNorm
from baselines.storage import Rollout, gae, gather, gather_hidden, minibatch_indices
from envs.spec import EnvSpec


class OnPolicyAlgorithm:
    name: ClassVar[str] = ""
    needs_costs: ClassVar[bool] = False
    allows_shared_params: ClassVar[bool] = True
    supports_continuous: ClassVar[bool] = True
    supports_discrete: ClassVar[bool] = True
    description: ClassVar[str] = ""
    metric_names: ClassVar[tuple[str, ...]] = ()  # what update_actors reports (progress.csv columns)
    # True: values are per agent, `agent_values(obs, state) -> (N, A)` (MAT); the trainer stores
    # `(T, N, A)` values and the algorithm's `prepare` broadcasts the team reward over agents
    per_agent_values: ClassVar[bool] = False
    off_policy: ClassVar[bool] = False  # trained by baselines.offpolicy (QMIX), not this loop

    def __init__(self, spec: EnvSpec, config: RunConfig, device: torch.device):
        self.spec, self.config, self.device = spec, config, device
        self.agents = spec.agents
        model, train = config.model, config.train
        if model.actor_input not in ("obs", "state"):
            raise ValueError(f"model.actor_input must be 'obs' or 'state', got {model.actor_input!r}")
        self.actor_input = model.actor_input
        state_dim = spec.state_space.shape[0]
        input_dims = {
            a: (state_dim + len(spec.agents))
            if self.actor_input == "state"
            else spec.observation_spaces[a].shape[0]
            for a in spec.agents
        }
        if train.share_param and not self.allows_shared_params:
            raise ValueError(
                f"{self.name} updates agents one after another; it needs train.share_param=false"
            )
        if train.share_param:
            first = spec.agents[0]
            same = all(
                input_dims[a] == input_dims[first] and spec.action_spaces[a] == spec.action_spaces[first]
                for a in spec.agents
            )
            if not same:
                raise ValueError("train.share_param=true needs every agent to have the same spaces")
            actor = Actor(input_dims[first], spec.action_spaces[first], model).to(device)
            self.actors = {a: actor for a in spec.agents}
        else:
            self.actors = {
                a: Actor(input_dims[a], spec.action_spaces[a], model).to(device) for a in spec.agents
            }
        self.actor_optimizers = {
            id(actor): torch.optim.Adam(actor.parameters(), lr=train.lr, eps=train.adam_eps)
            for actor in self.unique_actors()
        }
        self.critic = Critic(state_dim, model).to(device)
        self.critic_optimizer = torch.optim.Adam(
            self.critic.parameters(), lr=train.critic_lr, eps=train.adam_eps
        )
        self.value_norm = ValueNorm().to(device) if train.use_valuenorm else None
        self.cost_critic = self.cost_optimizer = self.cost_value_norm = None
        if self.needs_costs:
            self.cost_critic = Critic(state_dim, model).to(device)
            self.cost_optimizer = torch.optim.Adam(
                self.cost_critic.parameters(), lr=train.critic_lr, eps=train.adam_eps
            )
            self.cost_value_norm = ValueNorm().to(device) if train.use_valuenorm else None
        self.chunk = model.data_chunk_length if model.recurrent else None

    # ------------------------------------------------------------------ acting

    def actor_inputs(self, obs: dict[str, torch.Tensor], state: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each actor's input: its observation, or the global state with a one-hot agent id."""
        if self.actor_input == "obs":
            return obs
        eye = torch.eye(len(self.agents), device=state.device, dtype=state.dtype)
        return {
            a: torch.cat([state, eye[i].expand(*state.shape[:-1], -1)], dim=-1)
            for i, a in enumerate(self.agents)
        }

    def unique_actors(self) -> list[Actor]:
        seen: dict[int, Actor] = {}
        for actor in self.actors.values():
            seen.setdefault(id(actor), actor)
        return list(seen.values())

    def initial_hidden(self, num_envs: int) -> dict[str, Any]:
        if not self.config.model.recurrent:
            return {"actor": None, "critic": None, "cost_critic": None}
        hidden = {
            "actor": {a: actor.body.initial_state(num_envs, self.device) for a, actor in self.actors.items()},
            "critic": self.critic.body.initial_state(num_envs, self.device),
            "cost_critic": None,
        }
        if self.cost_critic is not None:
            hidden["cost_critic"] = self.cost_critic.body.initial_state(num_envs, self.device)
        return hidden

    @torch.no_grad()
    def act(
        self,
        obs: dict[str, torch.Tensor],
        masks: dict[str, torch.Tensor] | None,
        hidden: dict[str, torch.Tensor] | None,
        starts: torch.Tensor,
        deterministic: bool = False,
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor] | None]:
        """Sampled (or modal) actions, their log-probabilities, and the next hidden states."""
        actions, log_probs, new_hidden = {}, {}, {} if hidden is not None else None
        for agent, actor in self.actors.items():
            mask = None if masks is None else masks[agent]
            if hidden is None:
                dist, _ = actor.distribution(obs[agent], mask)
            else:
                dist, h = actor.distribution(
                    obs[agent].unsqueeze(0),
                    None if mask is None else mask.unsqueeze(0),
                    hidden[agent],
                    starts[None],
                )
                new_hidden[agent] = h
                dist = _squeeze_time(dist, actor.continuous)
            action = actor.mode(dist) if deterministic else dist.sample()
            actions[agent], log_probs[agent] = action, actor.log_prob(dist, action)
        return actions, log_probs, new_hidden

    @torch.no_grad()
    def values(
        self, state: torch.Tensor, hidden: torch.Tensor | None, starts: torch.Tensor, *, cost: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Denormalised V(state) from the reward (or cost) critic, and its next hidden state."""
        critic = self.cost_critic if cost else self.critic
        norm = self.cost_value_norm if cost else self.value_norm
        if hidden is None:
            value, new_hidden = critic(state)
        else:
            value, new_hidden = critic(state.unsqueeze(0), hidden, starts[None])
            value = value[0]
        return (norm.denormalize(value) if norm is not None else value), new_hidden

    # --------------------------------------------------------------- training

    def prepare(self, rollout: Rollout) -> None:
        """Advantages and returns for the reward (and cost) critics, stored in `rollout.extras`."""
        train = self.config.train
        adv, ret = gae(
            rollout.rewards,
            rollout.values,
            rollout.last_values,
            rollout.terminated,
            rollout.truncated,
            rollout.final_values,
            train.gamma,
            train.gae_lambda,
        )
        rollout.extras["advantages"], rollout.extras["returns"] = adv, ret
        if self.needs_costs:
            cost_adv, cost_ret = gae(
                rollout.costs,
                rollout.cost_values,
                rollout.cost_last_values,
                rollout.terminated,
                rollout.truncated,
                rollout.cost_final_values,
                self.cost_gamma,
                train.gae_lambda,
            )
            rollout.extras["cost_advantages"], rollout.extras["cost_returns"] = cost_adv, cost_ret

    @property
    def cost_gamma(self) -> float:
        train = self.config.train
        return train.gamma if train.cost_gamma is None else train.cost_gamma

    def update(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        """One iteration's update: actors (algorithm-specific), then the critics."""
        self.prepare(rollout)
        metrics = self.update_actors(rollout, generator, context)
        metrics.update(self.train_critic(rollout, generator, cost=False))
        if self.needs_costs:
            metrics.update(self.train_critic(rollout, generator, cost=True))
        return metrics

    def update_actors(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        raise NotImplementedError

    def normalized(self, advantages: torch.Tensor) -> torch.Tensor:
        if not self.config.train.normalize_advantages:
            return advantages
        return (advantages - advantages.mean()) / (advantages.std() + 1e-5)

    def evaluate(
        self, agent: str, rollout: Rollout, index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.distributions.Distribution]:
        """Log-probabilities and entropies of the stored actions under the current policy."""
        actor, n, chunk = self.actors[agent], rollout.num_envs, self.chunk
        obs = gather(rollout.obs[agent], index, n, chunk)
        mask = None if rollout.masks is None else gather(rollout.masks[agent], index, n, chunk)
        actions = gather(rollout.actions[agent], index, n, chunk)
        if chunk is None:
            dist, _ = actor.distribution(obs, mask)
        else:
            hidden = gather_hidden(rollout.actor_hidden[agent], index, n)
            starts = gather(rollout.starts, index, n, chunk)
            dist, _ = actor.distribution(obs, mask, hidden, starts)
        return actor.log_prob(dist, actions), actor.entropy(dist), dist

    @torch.no_grad()
    def log_probs_all(self, agent: str, rollout: Rollout) -> torch.Tensor:
        """`(T, N)` log-probabilities of the stored actions under the current policy (whole rollout)."""
        actor, t, n = self.actors[agent], rollout.steps, rollout.num_envs
        obs, actions = rollout.obs[agent], rollout.actions[agent]
        mask = None if rollout.masks is None else rollout.masks[agent]
        if self.chunk is None:
            flat = lambda x: None if x is None else x.reshape(t * n, *x.shape[2:])  # noqa: E731
            dist, _ = actor.distribution(flat(obs), flat(mask))
            return actor.log_prob(dist, flat(actions)).reshape(t, n)
        dist, _ = actor.distribution(obs, mask, rollout.actor_hidden[agent][0], rollout.starts)
        return actor.log_prob(dist, actions)

    def samples(self, rollout: Rollout, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Per-sample quantities (advantages, factors) for a minibatch, shaped like `evaluate`'s output."""
        return gather(x, index, rollout.num_envs, self.chunk)

    def all_indices(self, rollout: Rollout) -> torch.Tensor:
        """Every sample as one batch (for the trust-region updates and HAPPO's factor)."""
        t, n = rollout.steps, rollout.num_envs
        if self.chunk is None:
            return torch.arange(t * n)
        return torch.arange(0, t, self.chunk).repeat_interleave(n) * n + torch.arange(n).repeat(
            t // self.chunk
        )

    def ppo_actor_step(
        self,
        actor: Actor,
        losses: list[torch.Tensor],
    ) -> float:
        """One optimiser step on the mean loss of the agents that share `actor`."""
        optimizer = self.actor_optimizers[id(actor)]
        optimizer.zero_grad()
        loss = torch.stack(losses).mean()
        loss.backward()
        if self.config.train.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(actor.parameters(), self.config.train.max_grad_norm)
        optimizer.step()
        return float(loss.detach())

    def ppo_loss(
        self,
        log_probs: torch.Tensor,
        old_log_probs: torch.Tensor,
        advantages: torch.Tensor,
        entropy: torch.Tensor,
        factor: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """PPO-clip loss (weighted by HAPPO's factor when given) and the ratio."""
        clip = self.config.train.clip
        ratio = torch.exp(log_probs - old_log_probs)
        surrogate = torch.min(ratio * advantages, ratio.clamp(1.0 - clip, 1.0 + clip) * advantages)
        if factor is not None:
            surrogate = factor * surrogate
        return -surrogate.mean() - self.config.train.entropy_coef * entropy.mean(), ratio

    def train_critic(self, rollout: Rollout, generator: torch.Generator, *, cost: bool) -> dict[str, float]:
        train = self.config.train
        critic = self.cost_critic if cost else self.critic
        optimizer = self.cost_optimizer if cost else self.critic_optimizer
        norm = self.cost_value_norm if cost else self.value_norm
        returns = rollout.extras["cost_returns" if cost else "returns"]
        old_values = rollout.cost_values if cost else rollout.values
        hidden_store = rollout.cost_critic_hidden if cost else rollout.critic_hidden
        targets_all, old_all = value_targets(norm, returns, old_values)
        n, total = rollout.num_envs, 0.0
        count = 0
        for _ in range(train.critic_epoch):
            for index in minibatch_indices(rollout.steps, n, train.critic_minibatches, self.chunk, generator):
                state = gather(rollout.state, index, n, self.chunk)
                if self.chunk is None:
                    values, _ = critic(state)
                else:
                    hidden = gather_hidden(hidden_store, index, n)
                    values, _ = critic(state, hidden, gather(rollout.starts, index, n, self.chunk))
                targets = gather(targets_all, index, n, self.chunk)
                old = gather(old_all, index, n, self.chunk)
                loss = self.value_loss(values, old, targets)
                optimizer.zero_grad()
                (loss * train.value_loss_coef).backward()
                if train.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(critic.parameters(), train.max_grad_norm)
                optimizer.step()
                total += float(loss.detach())
                count += 1
        return {("cost_value_loss" if cost else "value_loss"): total / max(count, 1)}

    def value_loss(self, values: torch.Tensor, old: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        train = self.config.train

        def error_loss(error: torch.Tensor) -> torch.Tensor:
            if train.use_huber_loss:
                return F.huber_loss(error, torch.zeros_like(error), delta=train.huber_delta, reduction="none")
            return 0.5 * error.square()

        loss = error_loss(targets - values)
        if train.use_clipped_value_loss:
            clipped = old + (values - old).clamp(-train.clip, train.clip)
            loss = torch.max(loss, error_loss(targets - clipped))
        return loss.mean()

    def set_learning_rate(self, fraction_left: float) -> None:
        """Linear decay (`train.linear_lr_decay`): scale the learning rates by the fraction left."""
        train = self.config.train
        for optimizer in self.actor_optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = train.lr * fraction_left
        for optimizer in (self.critic_optimizer, self.cost_optimizer):
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = train.critic_lr * fraction_left

    # ------------------------------------------------------------ checkpoints

    def modules(self) -> dict[str, nn.Module]:
        out: dict[str, nn.Module] = {f"actor_{i}": actor for i, actor in enumerate(self.unique_actors())}
        out["critic"] = self.critic
        if self.value_norm is not None:
            out["value_norm"] = self.value_norm
        if self.cost_critic is not None:
            out["cost_critic"] = self.cost_critic
        if self.cost_value_norm is not None:
            out["cost_value_norm"] = self.cost_value_norm
        return out

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        out = {f"actor_{i}": self.actor_optimizers[id(a)] for i, a in enumerate(self.unique_actors())}
        out["critic"] = self.critic_optimizer
        if self.cost_optimizer is not None:
            out["cost_critic"] = self.cost_optimizer
        return out

    def extra_state(self) -> dict[str, Any]:
        """Algorithm state beyond networks and optimisers (e.g. a Lagrange multiplier)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {
            "modules": {k: m.state_dict() for k, m in self.modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, module in self.modules().items():
            module.load_state_dict(state["modules"][key])
        for key, optimizer in self.optimizers().items():
            optimizer.load_state_dict(state["optimizers"][key])
        self.load_extra_state(state["extra"])


def value_targets(
    norm: ValueNorm | None, returns: torch.Tensor, old_values: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The value loss's targets and clip centres, in the critic's output space. The centres are
    the critic's own outputs at collection time: the stored (denormalised) values normalised
    with the statistics they were denormalised with, i.e. before `norm` takes in `returns`."""
    if norm is None:
        return returns, old_values
    old = norm.normalize(old_values)
    norm.update(returns)
    return norm.normalize(returns), old


def detached(dist: torch.distributions.Distribution) -> torch.distributions.Distribution:
    """A constant copy of a policy's distribution (the 'old' side of a KL)."""
    if isinstance(dist, torch.distributions.Normal):
        return torch.distributions.Normal(dist.loc.detach(), dist.scale.detach())
    return torch.distributions.Categorical(logits=dist.logits.detach())


def mean_kl(old: torch.distributions.Distribution, new: torch.distributions.Distribution) -> torch.Tensor:
    kl = torch.distributions.kl_divergence(old, new)
    return (kl.sum(-1) if isinstance(old, torch.distributions.Normal) else kl).mean()


def _squeeze_time(dist: torch.distributions.Distribution, continuous: bool):
    """A distribution over (1, B, ...) -> over (B, ...)."""
    if continuous:
        return torch.distributions.Normal(dist.loc[0], dist.scale[0])
    return torch.distributions.Categorical(logits=dist.logits[0])
