"""Rollout storage over `num_envs` copies, GAE, and minibatches (flat or in recurrent chunks).

Bootstrapping follows the API's contract: when an episode ends by truncation the
value of its final observation (`TimeStep.final_state`) is the bootstrap, when it
terminates the bootstrap is zero, and the advantage trace stops at either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    last_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    final_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns, all `(T, N)`; `final_values[t]` is V(final state) where step t ended."""
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_values)
    for t in reversed(range(steps)):
        next_values = last_values if t == steps - 1 else values[t + 1]
        next_values = torch.where(truncated[t], final_values[t], next_values)
        next_values = torch.where(terminated[t], torch.zeros_like(next_values), next_values)
        delta = rewards[t] + gamma * next_values - values[t]
        running = delta + gamma * lam * (~(terminated[t] | truncated[t])).float() * running
        advantages[t] = running
    return advantages, advantages + values


@dataclass
class Rollout:
    """One iteration's data: `T` steps of `N` copies. Per-agent entries are dicts."""

    obs: dict[str, torch.Tensor]  # (T, N, d)
    state: torch.Tensor  # (T, N, D)
    actions: dict[str, torch.Tensor]  # (T, N, a) or (T, N)
    log_probs: dict[str, torch.Tensor]  # (T, N)
    masks: dict[str, torch.Tensor] | None  # (T, N, n) bool
    starts: torch.Tensor  # (T, N) bool: step t begins an episode
    rewards: torch.Tensor  # (T, N) team reward (mean over agents)
    values: torch.Tensor  # (T, N) denormalised V(state)
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_values: torch.Tensor  # (T, N) V(final state) where truncated, else 0
    last_values: torch.Tensor  # (N,) V(state after the last step)
    costs: torch.Tensor | None = None
    cost_values: torch.Tensor | None = None
    cost_final_values: torch.Tensor | None = None
    cost_last_values: torch.Tensor | None = None
    actor_hidden: dict[str, torch.Tensor] | None = None  # (T, layers, N, h): state before step t
    critic_hidden: torch.Tensor | None = None
    cost_critic_hidden: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)  # advantages, returns, ...

    @property
    def steps(self) -> int:
        return self.rewards.shape[0]

    @property
    def num_envs(self) -> int:
        return self.rewards.shape[1]


class RolloutBuilder:
    """Collects per-step tensors and stacks them into a `Rollout`."""

    def __init__(self) -> None:
        self.items: dict[str, list] = {}

    def add(self, **entries) -> None:
        for key, value in entries.items():
            self.items.setdefault(key, []).append(value)

    def stack(self, key: str):
        values = self.items.get(key)
        if values is None or values[0] is None:
            return None
        if isinstance(values[0], dict):
            return {k: torch.stack([v[k] for v in values]) for k in values[0]}
        return torch.stack(values)


def minibatch_indices(
    steps: int, num_envs: int, minibatches: int, chunk: int | None, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Random minibatches of flat sample indices (`t * N + n`), or of chunk starts when recurrent.

    For recurrent policies a sample is a chunk of `chunk` consecutive steps of one copy;
    the yielded tensor then holds `(t0, n)` chunk origins as flat indices.
    """
    if chunk is None:
        order = torch.randperm(steps * num_envs, generator=generator)
    else:
        if steps % chunk:
            raise ValueError(
                f"rollout.length ({steps}) must be a multiple of model.data_chunk_length ({chunk})"
            )
        origins = torch.arange(0, steps, chunk).repeat_interleave(num_envs) * num_envs + torch.arange(
            num_envs
        ).repeat(steps // chunk)
        order = origins[torch.randperm(len(origins), generator=generator)]
    size = len(order) // minibatches
    if size == 0:
        raise ValueError(f"{minibatches} minibatches is more than the {len(order)} samples of a rollout")
    for i in range(minibatches):
        yield order[i * size : (i + 1) * size]


def gather(x: torch.Tensor, index: torch.Tensor, num_envs: int, chunk: int | None) -> torch.Tensor:
    """Rows of a `(T, N, ...)` tensor: flat `(B, ...)`, or `(chunk, B, ...)` sequences."""
    flat = x.reshape(-1, *x.shape[2:])
    if chunk is None:
        return flat[index]
    offsets = torch.arange(chunk).unsqueeze(1) * num_envs  # (chunk, 1)
    return flat[index.unsqueeze(0) + offsets]


def gather_hidden(hidden: torch.Tensor, index: torch.Tensor, num_envs: int) -> torch.Tensor:
    """Hidden states `(T, layers, N, h)` at chunk origins -> `(layers, B, h)`."""
    t, n = index // num_envs, index % num_envs
    return hidden[t, :, n].transpose(0, 1).contiguous()
