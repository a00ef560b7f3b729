"""Multi-Agent Transformer (Wen et al., 2022): the joint policy as a sequence model over agents.

The encoder embeds every agent's observation, mixes them with self-attention and gives a
value per agent. The decoder reads the previous agents' actions (masked self-attention) and
attends to the encoder output, so pi(a_i | o, a_<i) is decoded one agent after another when
acting and in one teacher-forced pass when training. The update is PPO-clip on every agent's
ratio with per-agent advantages (GAE on the per-agent values), an entropy bonus and the
clipped value loss, all in one optimiser, as PKU-MARL/Multi-Agent-Transformer does.

`mat_dec` (the source's `--dec_actor`) replaces the decoder by an MLP on each agent's own
observation (one per agent, or shared with `transformer.share_actor`): decentralised actors
with the transformer encoder as the critic. `transformer.encoder_attention: false` turns
the encoder into independent per-agent heads (no attention between agents' observations).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Distribution, Normal

from baselines.action_padding import own_action_mask, paddable, stack_action_masks
from baselines.algorithms.base import OnPolicyAlgorithm, value_targets
from baselines.config import ModelConfig, RunConfig, TransformerConfig
from baselines.networks import MASKED_LOGIT
from baselines.normalization import ValueNorm
from baselines.storage import Rollout, minibatch_indices
from envs.spec import EnvSpec


def _linear(size_in: int, size_out: int, gain: float = 1.0, bias: bool = True) -> nn.Linear:
    layer = nn.Linear(size_in, size_out, bias=bias)
    nn.init.orthogonal_(layer.weight, gain=gain)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def _mlp_head(size_in: int, embed: int, size_out: int, gain: float) -> nn.Sequential:
    return nn.Sequential(
        _linear(size_in, embed), nn.GELU(), nn.LayerNorm(embed), _linear(embed, size_out, gain)
    )


class EncodeBlock(nn.Module):
    """Self-attention over all agents (unmasked), then a position-wise MLP; post-LayerNorm.
    Without attention (`transformer.encoder_attention: false`) each agent's representation
    and value come from its own observation only: independent encoder heads."""

    def __init__(self, embed: int, heads: int, attend: bool = True):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed, heads, batch_first=True) if attend else None
        self.ln1, self.ln2 = nn.LayerNorm(embed), nn.LayerNorm(embed)
        self.mlp = nn.Sequential(_linear(embed, embed), nn.GELU(), _linear(embed, embed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.attn is not None:
            x = self.ln1(x + self.attn(x, x, x, need_weights=False)[0])
        return self.ln2(x + self.mlp(x))


class DecodeBlock(nn.Module):
    """Causal self-attention over the shifted actions, then cross-attention in which agent i's
    encoder output queries the action stream up to i (causal again) and stays on the residual
    path, as in the source, so position i knows whose action it decodes; then an MLP."""

    def __init__(self, embed: int, heads: int):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(embed, heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(embed, heads, batch_first=True)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(embed), nn.LayerNorm(embed), nn.LayerNorm(embed)
        self.mlp = nn.Sequential(_linear(embed, embed), nn.GELU(), _linear(embed, embed))

    def forward(self, x: torch.Tensor, encoded: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.self_attn(x, x, x, attn_mask=causal, need_weights=False)[0])
        x = self.ln2(encoded + self.cross_attn(encoded, x, x, attn_mask=causal, need_weights=False)[0])
        return self.ln3(x + self.mlp(x))


class MATNetwork(nn.Module):
    """Encoder (values) and decoder (policy) over `(B, agents, ...)` inputs."""

    def __init__(
        self,
        obs_dim: int,
        num_agents: int,
        action_space: gym.Space,
        transformer: TransformerConfig,
        model: ModelConfig,
    ):
        super().__init__()
        embed, heads = transformer.embed, transformer.heads
        if embed % heads:
            raise ValueError(f"transformer.embed ({embed}) must be a multiple of transformer.heads ({heads})")
        self.num_agents = num_agents
        self.continuous = isinstance(action_space, gym.spaces.Box)
        self.action_dim = action_space.shape[0] if self.continuous else int(action_space.n)
        self.dec_actor = transformer.dec_actor
        self.obs_embed = nn.Sequential(nn.LayerNorm(obs_dim), _linear(obs_dim, embed), nn.GELU())
        self.enc_norm = nn.LayerNorm(embed)
        self.encoder = nn.ModuleList(
            [EncodeBlock(embed, heads, transformer.encoder_attention) for _ in range(transformer.blocks)]
        )
        self.value_head = _mlp_head(embed, embed, 1, 1.0)
        if self.dec_actor:
            count = 1 if transformer.share_actor else num_agents
            self.actor_heads = nn.ModuleList(
                [
                    nn.Sequential(
                        nn.LayerNorm(obs_dim), _mlp_head(obs_dim, embed, self.action_dim, model.gain)
                    )
                    for _ in range(count)
                ]
            )
        else:
            # discrete: one-hot of (start token, action 0, ..., action n-1); continuous: the action itself
            in_dim = self.action_dim if self.continuous else self.action_dim + 1
            self.action_embed = nn.Sequential(_linear(in_dim, embed, bias=not self.continuous), nn.GELU())
            self.dec_norm = nn.LayerNorm(embed)
            self.decoder = nn.ModuleList([DecodeBlock(embed, heads) for _ in range(transformer.blocks)])
            self.policy_head = _mlp_head(embed, embed, self.action_dim, model.gain)
            self.register_buffer(
                "causal", torch.triu(torch.ones(num_agents, num_agents, dtype=torch.bool), diagonal=1)
            )
        if self.continuous:
            self.log_std = nn.Parameter(torch.ones(self.action_dim) * model.std_x_coef)
            self.std_x_coef, self.std_y_coef = model.std_x_coef, model.std_y_coef

    def encode(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(B, A, d)` observations -> `(B, A)` values and `(B, A, E)` representations."""
        x = self.enc_norm(self.obs_embed(obs))
        for block in self.encoder:
            x = block(x)
        return self.value_head(x).squeeze(-1), x

    def shifted(self, actions: torch.Tensor) -> torch.Tensor:
        """Decoder input: a start token, then the embedding of agent i-1's action at position i."""
        batch = actions.shape[0]
        if self.continuous:
            start = torch.zeros(batch, 1, self.action_dim, device=actions.device, dtype=torch.float32)
            tokens = torch.cat([start, actions[:, :-1].float()], dim=1)
        else:
            index = torch.cat([torch.zeros_like(actions[:, :1]), actions[:, :-1].long() + 1], dim=1)
            tokens = F.one_hot(index, self.action_dim + 1).float()
        return tokens

    def decode(self, tokens: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
        """Action logits (or Gaussian means) for the `L` positions of `tokens` `(B, L, ...)`."""
        length = tokens.shape[1]
        x = self.dec_norm(self.action_embed(tokens))
        for block in self.decoder:
            x = block(x, encoded[:, :length], self.causal[:length, :length])
        return self.policy_head(x)

    def independent(self, obs: torch.Tensor) -> torch.Tensor:
        """MAT-Dec: each agent's head on its own observation."""
        if len(self.actor_heads) == 1:
            return self.actor_heads[0](obs)
        return torch.stack([head(obs[:, i]) for i, head in enumerate(self.actor_heads)], dim=1)

    def distribution(self, out: torch.Tensor, mask: torch.Tensor | None) -> Distribution:
        if self.continuous:
            std = torch.sigmoid(self.log_std / self.std_x_coef) * self.std_y_coef
            return Normal(out, std.expand_as(out))
        if mask is not None:
            out = out.masked_fill(~mask, MASKED_LOGIT)
        return Categorical(logits=out)

    def log_prob(self, dist: Distribution, actions: torch.Tensor) -> torch.Tensor:
        logp = dist.log_prob(actions)
        return logp.sum(-1) if self.continuous else logp

    def entropy(self, dist: Distribution) -> torch.Tensor:
        entropy = dist.entropy()
        return entropy.sum(-1) if self.continuous else entropy

    def teacher_forced(
        self, obs: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(B, A)` log-probabilities of `actions`, entropies and values, in one pass."""
        values, encoded = self.encode(obs)
        out = self.independent(obs) if self.dec_actor else self.decode(self.shifted(actions), encoded)
        dist = self.distribution(out, mask)
        return self.log_prob(dist, actions), self.entropy(dist), values

    @torch.no_grad()
    def autoregressive(
        self, obs: torch.Tensor, mask: torch.Tensor | None, deterministic: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions `(B, A[, a])` chosen agent after agent, and their `(B, A)` log-probabilities."""
        _, encoded = self.encode(obs)
        if self.dec_actor:
            dist = self.distribution(self.independent(obs), mask)
            actions = self._choose(dist, deterministic)
            return actions, self.log_prob(dist, actions)
        batch, agents = obs.shape[:2]
        if self.continuous:
            actions = torch.zeros(batch, agents, self.action_dim, device=obs.device)
        else:
            actions = torch.zeros(batch, agents, dtype=torch.long, device=obs.device)
        log_probs = torch.zeros(batch, agents, device=obs.device)
        for i in range(agents):
            tokens = self.shifted(actions)[:, : i + 1]
            out = self.decode(tokens, encoded)[:, i]
            dist = self.distribution(out, None if mask is None else mask[:, i])
            action = self._choose(dist, deterministic)
            actions[:, i], log_probs[:, i] = action, self.log_prob(dist, action)
        return actions, log_probs

    def _choose(self, dist: Distribution, deterministic: bool) -> torch.Tensor:
        if not deterministic:
            return dist.sample()
        return dist.mean if self.continuous else dist.probs.argmax(-1)


class ActionHead(nn.Module):
    """What the trainer needs per agent besides the policy: the env-side action (Box clipped)."""

    def __init__(self, space: gym.Space):
        super().__init__()
        self.continuous = isinstance(space, gym.spaces.Box)
        if self.continuous:
            self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32))

    def to_env(self, actions: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(actions, self.high), self.low) if self.continuous else actions


class MAT(OnPolicyAlgorithm):
    name = "mat"
    per_agent_values: ClassVar[bool] = True
    allows_shared_params = True
    metric_names = ("policy_loss", "entropy", "ratio_max")
    description = "Multi-Agent Transformer: autoregressive decoder over agents, per-agent values, PPO-clip"
    dec_actor_default: ClassVar[bool] = False

    def __init__(self, spec: EnvSpec, config: RunConfig, device: torch.device):
        # Not OnPolicyAlgorithm.__init__: MAT has one network and one optimiser instead of
        # per-agent actors and a state critic.
        self.spec, self.config, self.device = spec, config, device
        self.agents = spec.agents
        model, train, transformer = config.model, config.train, config.transformer
        if model.recurrent:
            raise ValueError(f"{self.name} is not recurrent: set model.recurrent=false")
        if model.actor_input not in ("obs", "state"):
            raise ValueError(f"model.actor_input must be 'obs' or 'state', got {model.actor_input!r}")
        self.actor_input = model.actor_input
        spaces = [spec.action_spaces[a] for a in self.agents]
        first = spaces[0]
        self.own_actions = None
        if any(s != first for s in spaces):
            if not paddable(spaces):
                raise ValueError(
                    f"{self.name} decodes one action space for every agent; {spec.name} has "
                    f"{dict(spec.action_spaces)}: only Discrete spaces of different sizes can be "
                    "padded to one (use mappo/happo)"
                )
            # uneven action counts: one head over the largest, each agent's extra actions masked
            first = gym.spaces.Discrete(max(int(s.n) for s in spaces))
            self.own_actions = own_action_mask(spaces, device)
        if isinstance(first, gym.spaces.Box) and len(first.shape) != 1:
            raise ValueError(f"Box actions must be one-dimensional vectors, got shape {first.shape}")
        state_dim = spec.state_space.shape[0]
        dims = [
            state_dim + len(self.agents)
            if self.actor_input == "state"
            else spec.observation_spaces[a].shape[0]
            for a in self.agents
        ]
        self.obs_dim = max(dims)  # shorter observations are zero-padded
        if self.dec_actor_default:
            transformer = type(transformer)(**{**transformer.__dict__, "dec_actor": True})
        self.network = MATNetwork(self.obs_dim, len(self.agents), first, transformer, model).to(device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=train.lr, eps=train.adam_eps)
        self.value_norm = ValueNorm().to(device) if train.use_valuenorm else None
        self.actors = {a: ActionHead(spec.action_spaces[a]).to(device) for a in self.agents}
        self.actor_optimizers = {}
        self.critic = self.critic_optimizer = None
        self.cost_critic = self.cost_optimizer = self.cost_value_norm = None
        self.chunk = None

    # ------------------------------------------------------------------ acting

    def stack_obs(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """`(..., A, d)`: the agents' observations in order, zero-padded to one width."""
        return torch.stack(
            [F.pad(obs[a].float(), (0, self.obs_dim - obs[a].shape[-1])) for a in self.agents], -2
        )

    def stack_masks(
        self, masks: dict[str, torch.Tensor] | None, batch_shape: tuple[int, ...]
    ) -> torch.Tensor | None:
        """`(*batch, A, n)` allowed actions (the env's and each agent's own), or None for all."""
        return stack_action_masks(masks, self.agents, self.own_actions, batch_shape)

    @torch.no_grad()
    def act(self, obs, masks, hidden, starts, deterministic: bool = False):
        stacked = self.stack_obs(obs)
        actions, log_probs = self.network.autoregressive(
            stacked, self.stack_masks(masks, stacked.shape[:-2]), deterministic
        )
        return (
            {a: actions[:, i] for i, a in enumerate(self.agents)},
            {a: log_probs[:, i] for i, a in enumerate(self.agents)},
            None,
        )

    @torch.no_grad()
    def agent_values(self, obs: dict[str, torch.Tensor], state: torch.Tensor) -> torch.Tensor:
        """`(N, A)` denormalised values, one per agent, from the encoder."""
        values, _ = self.network.encode(self.stack_obs(obs))
        return self.value_norm.denormalize(values) if self.value_norm is not None else values

    def values(self, state, hidden, starts, *, cost: bool = False):
        raise TypeError(f"{self.name} has per-agent values from observations: use agent_values(obs, state)")

    # --------------------------------------------------------------- training

    def prepare(self, rollout: Rollout) -> None:
        """Per-agent GAE on the team reward (values `(T, N, A)`)."""
        from baselines.storage import gae

        train = self.config.train
        agents = len(self.agents)
        adv, ret = gae(
            rollout.rewards.unsqueeze(-1).expand(-1, -1, agents),
            rollout.values,
            rollout.last_values,
            rollout.terminated.unsqueeze(-1),
            rollout.truncated.unsqueeze(-1),
            rollout.final_values,
            train.gamma,
            train.gae_lambda,
        )
        rollout.extras["advantages"], rollout.extras["returns"] = adv, ret

    def update(
        self, rollout: Rollout, generator: torch.Generator, context: dict[str, Any]
    ) -> dict[str, float]:
        train = self.config.train
        self.prepare(rollout)
        t, n = rollout.steps, rollout.num_envs
        flat = lambda x: x.reshape(t * n, *x.shape[2:])  # noqa: E731
        obs = flat(self.stack_obs(rollout.obs))
        actions = flat(torch.stack([rollout.actions[a] for a in self.agents], 2))
        masks = self.stack_masks(rollout.masks, (t, n))
        masks = None if masks is None else flat(masks)
        old_log_probs = flat(torch.stack([rollout.log_probs[a] for a in self.agents], 2))
        advantages = flat(self.normalized(rollout.extras["advantages"]))
        returns = rollout.extras["returns"]
        targets, old_values = value_targets(self.value_norm, returns, rollout.values)
        targets, old_values = flat(targets), flat(old_values)
        totals = {"policy_loss": 0.0, "entropy": 0.0, "ratio_max": 0.0, "value_loss": 0.0}
        steps = 0
        for _ in range(train.ppo_epoch):
            for index in minibatch_indices(t, n, train.actor_minibatches, None, generator):
                log_probs, entropy, values = self.network.teacher_forced(
                    obs[index], actions[index], None if masks is None else masks[index]
                )
                policy_loss, ratio = self.ppo_loss(
                    log_probs, old_log_probs[index], advantages[index], entropy
                )
                value_loss = self.value_loss(values, old_values[index], targets[index])
                self.optimizer.zero_grad()
                (policy_loss + train.value_loss_coef * value_loss).backward()
                if train.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(self.network.parameters(), train.max_grad_norm)
                self.optimizer.step()
                totals["policy_loss"] += float(policy_loss.detach())
                totals["value_loss"] += float(value_loss.detach())
                totals["entropy"] += float(entropy.detach().mean())
                totals["ratio_max"] = max(totals["ratio_max"], float(ratio.detach().max()))
                steps += 1
        return {k: (v if k == "ratio_max" else v / max(steps, 1)) for k, v in totals.items()}

    def set_learning_rate(self, fraction_left: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.train.lr * fraction_left

    # ------------------------------------------------------------ checkpoints

    def modules(self) -> dict[str, nn.Module]:
        out: dict[str, nn.Module] = {"network": self.network}
        if self.value_norm is not None:
            out["value_norm"] = self.value_norm
        return out

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"network": self.optimizer}


class MATDec(MAT):
    """MAT-Dec: decentralised MLP actors on each agent's own observation, the encoder as critic."""

    name = "mat_dec"
    dec_actor_default = True
    description = "MAT-Dec: independent actor heads per agent, transformer encoder for per-agent values"
