"""Random actions that respect the spec and the action masks (for checks and baselines)."""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import numpy as np
import torch

from envs.spec import EnvSpec, torch_dtype


def random_actions(
    spec: EnvSpec,
    action_mask: Mapping[str, torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """One uniformly random valid action per agent and copy, on `spec.device`.

    Discrete choices are drawn among the actions the mask allows; Box actions
    uniformly between finite bounds (standard normal along unbounded dimensions).
    """
    return {
        agent: _sample(
            space,
            spec.num_envs,
            spec.device,
            None if action_mask is None else action_mask[agent],
            generator,
        )
        for agent, space in spec.action_spaces.items()
    }


def _sample(
    space: gym.Space,
    n: int,
    device: torch.device,
    mask: torch.Tensor | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    if isinstance(space, gym.spaces.Discrete):
        return _categorical(int(space.n), n, device, mask, generator) + int(space.start)
    if isinstance(space, gym.spaces.MultiDiscrete):
        offsets = np.concatenate([[0], np.cumsum(space.nvec)])
        starts = np.asarray(space.start).reshape(-1)
        columns = [
            _categorical(
                int(k), n, device, None if mask is None else mask[:, offsets[i] : offsets[i + 1]], generator
            )
            + int(starts[i])
            for i, k in enumerate(space.nvec.reshape(-1))
        ]
        return torch.stack(columns, dim=1).reshape(n, *space.shape)
    if isinstance(space, gym.spaces.Box):
        dtype = torch_dtype(space)
        low = torch.as_tensor(space.low, dtype=dtype, device=device)
        high = torch.as_tensor(space.high, dtype=dtype, device=device)
        bounded = torch.isfinite(low) & torch.isfinite(high)
        uniform = torch.rand((n, *space.shape), generator=generator, device=device, dtype=dtype)
        normal = torch.randn((n, *space.shape), generator=generator, device=device, dtype=dtype)
        span = torch.where(bounded, high - low, torch.zeros_like(low))
        return torch.where(bounded, low.nan_to_num() + uniform * span, normal)
    raise TypeError(f"cannot sample actions from {space}")


def _categorical(
    k: int, n: int, device: torch.device, mask: torch.Tensor | None, generator: torch.Generator | None
) -> torch.Tensor:
    if mask is None:
        return torch.randint(0, k, (n,), generator=generator, device=device)
    return torch.multinomial(mask.float(), 1, generator=generator).squeeze(1)
