"""`EnvSpec`: the static description of a task that learners build their networks from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch


@dataclass(frozen=True)
class EnvSpec:
    """What a batched multi-agent env looks like, before any step is taken.

    Spaces describe one copy of the env (no batch dimension); every tensor the env
    returns has `num_envs` as its first dimension.
    """

    name: str
    family: str
    backend: str
    agents: tuple[str, ...]
    observation_spaces: Mapping[str, gym.Space]
    action_spaces: Mapping[str, gym.Space]
    state_space: gym.spaces.Box
    num_envs: int
    device: torch.device
    max_episode_steps: int | None = None
    has_costs: bool = False
    has_action_masks: bool = False
    info_keys: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # "cuda" and "cuda:0" (or "cpu:0" and "cpu") must compare equal to the device
        # of the tensors the env returns and receives.
        object.__setattr__(self, "device", canonical_device(self.device))
        if len(set(self.agents)) != len(self.agents):
            raise ValueError(f"agent names must be unique, got {self.agents}")
        for label, spaces in (
            ("observation_spaces", self.observation_spaces),
            ("action_spaces", self.action_spaces),
        ):
            if set(spaces) != set(self.agents):
                raise ValueError(
                    f"{label} must have one entry per agent {list(self.agents)}, got {list(spaces)}"
                )
        if self.num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {self.num_envs}")

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    def action_mask_size(self, agent: str) -> int:
        """Length of an agent's action mask: one flag per discrete choice."""
        return action_mask_size(self.action_spaces[agent])


def torch_dtype(space: gym.Space) -> torch.dtype:
    """The torch dtype of a space's values (float32 for a float32 Box, and so on)."""
    return getattr(torch, np.dtype(space.dtype).name)


def action_mask_size(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum())
    raise TypeError(f"action masks need a Discrete or MultiDiscrete action space, got {space}")


def canonical_device(device: str | torch.device) -> torch.device:
    """The device as tensors report it: with the current index for CUDA, none for CPU."""
    device = torch.device(device)
    if device.type == "cpu":
        return torch.device("cpu")
    return torch.empty(0, device=device).device
