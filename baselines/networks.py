"""Actor and critic networks (HARL's layout: LayerNorm MLPs, orthogonal init), optionally recurrent.

Flat inputs `(B, d)` for feed-forward networks; recurrent ones take sequences
`(L, B, d)` with a hidden state `(layers, B, h)` and `starts` `(L, B)` marking the
first step of an episode, where the hidden state is zeroed.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Normal

from baselines.config import ModelConfig

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}
MASKED_LOGIT = -1e10


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


class Body(nn.Module):
    """Input LayerNorm, then Linear -> activation -> LayerNorm per hidden layer, then an optional GRU."""

    def __init__(self, in_dim: int, config: ModelConfig):
        super().__init__()
        if config.activation not in ACTIVATIONS:
            raise ValueError(
                f"model.activation must be one of {sorted(ACTIVATIONS)}, got {config.activation!r}"
            )
        act = ACTIVATIONS[config.activation]
        gain = nn.init.calculate_gain(config.activation if config.activation != "elu" else "relu")
        layers: list[nn.Module] = [nn.LayerNorm(in_dim)] if config.feature_norm else []
        size = in_dim
        for hidden in config.hidden_sizes:
            layers += [_init(nn.Linear(size, hidden), gain), act(), nn.LayerNorm(hidden)]
            size = hidden
        self.mlp = nn.Sequential(*layers)
        self.out_dim = size
        self.recurrent = config.recurrent
        self.recurrent_layers = config.recurrent_layers
        if self.recurrent:
            self.gru = nn.GRU(size, size, num_layers=config.recurrent_layers)
            for name, param in self.gru.named_parameters():
                if "weight" in name:
                    nn.init.orthogonal_(param)
                else:
                    nn.init.zeros_(param)
            self.gru_norm = nn.LayerNorm(size)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.zeros(self.recurrent_layers, batch, self.out_dim, device=device)

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor | None = None, starts: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        features = self.mlp(x)
        if not self.recurrent:
            return features, None
        outputs = []
        for t in range(features.shape[0]):
            hidden = hidden * (1.0 - starts[t].float()).view(1, -1, 1)
            out, hidden = self.gru(features[t : t + 1], hidden)
            outputs.append(out[0])
        return self.gru_norm(torch.stack(outputs)), hidden


class Actor(nn.Module):
    """A policy for one action space: Gaussian (Box) or masked categorical (Discrete)."""

    def __init__(self, obs_dim: int, action_space: gym.Space, config: ModelConfig):
        super().__init__()
        self.body = Body(obs_dim, config)
        self.continuous = isinstance(action_space, gym.spaces.Box)
        if self.continuous:
            if len(action_space.shape) != 1:
                raise ValueError(
                    f"Box actions must be one-dimensional vectors, got shape {action_space.shape}"
                )
            size = action_space.shape[0]
            self.log_std = nn.Parameter(torch.ones(size) * config.std_x_coef)
            self.std_x_coef, self.std_y_coef = config.std_x_coef, config.std_y_coef
            self.register_buffer("low", torch.as_tensor(action_space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(action_space.high, dtype=torch.float32))
            self.clip_actions = config.clip_actions
        elif isinstance(action_space, gym.spaces.Discrete):
            size = int(action_space.n)
        else:
            raise ValueError(
                f"the on-policy baselines support Box and Discrete actions, not {type(action_space).__name__}"
            )
        self.head = _init(nn.Linear(self.body.out_dim, size), config.gain)

    def distribution(
        self,
        obs: torch.Tensor,
        mask: torch.Tensor | None = None,
        hidden: torch.Tensor | None = None,
        starts: torch.Tensor | None = None,
    ) -> tuple[Distribution, torch.Tensor | None]:
        features, hidden = self.body(obs, hidden, starts)
        out = self.head(features)
        if self.continuous:
            std = torch.sigmoid(self.log_std / self.std_x_coef) * self.std_y_coef
            return Normal(out, std.expand_as(out)), hidden
        if mask is not None:
            out = out.masked_fill(~mask, MASKED_LOGIT)
        return Categorical(logits=out), hidden

    forward = distribution

    def log_prob(self, dist: Distribution, actions: torch.Tensor) -> torch.Tensor:
        """Joint log-probability of each action (summed over a Box's dimensions)."""
        logp = dist.log_prob(actions)
        return logp.sum(-1) if self.continuous else logp

    def entropy(self, dist: Distribution) -> torch.Tensor:
        entropy = dist.entropy()
        return entropy.sum(-1) if self.continuous else entropy

    def mode(self, dist: Distribution) -> torch.Tensor:
        return dist.mean if self.continuous else dist.probs.argmax(-1)

    def to_env(self, actions: torch.Tensor) -> torch.Tensor:
        """What the env receives: Box actions clipped to their bounds unless `model.clip_actions`
        is off (the policy keeps its sample either way)."""
        if not (self.continuous and self.clip_actions):
            return actions
        return torch.maximum(torch.minimum(actions, self.high), self.low)


class Critic(nn.Module):
    """V(state): a centralised value on the global state."""

    def __init__(self, state_dim: int, config: ModelConfig):
        super().__init__()
        self.body = Body(state_dim, config)
        self.head = _init(nn.Linear(self.body.out_dim, 1), 1.0)

    def forward(
        self, state: torch.Tensor, hidden: torch.Tensor | None = None, starts: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        features, hidden = self.body(state, hidden, starts)
        return self.head(features).squeeze(-1), hidden
