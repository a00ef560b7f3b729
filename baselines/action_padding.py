"""One discrete action head for agents whose action counts differ.

QMIX shares one agent network and MAT decodes every agent with one policy head, so both need
one number of actions. Where agents' `Discrete` spaces differ (MPE's speaker has 3 actions,
the listener 5), every agent gets the largest count and the actions beyond its own are masked
out, as EPyMARL does for the same algorithms (uoe-agents/epymarl src/envs/gymma.py,
`get_avail_agent_actions`: ones for the agent's own actions, zeros up to the longest space).
A masked action is never chosen, so the env only ever receives its own actions.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import torch
import torch.nn.functional as F


def paddable(spaces: Sequence[gym.Space]) -> bool:
    """True when every space is `Discrete` starting at 0 (sizes may differ)."""
    return all(isinstance(s, gym.spaces.Discrete) and int(s.start) == 0 for s in spaces)


def own_action_mask(spaces: Sequence[gym.Space], device: torch.device | str = "cpu") -> torch.Tensor | None:
    """`(A, n_max)` bool on `device`, True at agent i's own actions `0..n_i-1`; None when all
    sizes are equal (nothing to pad). `spaces` must be `paddable`."""
    if not paddable(spaces):
        raise ValueError(f"only Discrete spaces starting at 0 can be padded, got {list(spaces)}")
    sizes = [int(s.n) for s in spaces]
    if len(set(sizes)) == 1:
        return None
    return torch.arange(max(sizes), device=device).view(1, -1) < torch.tensor(sizes, device=device).view(
        -1, 1
    )


def stack_action_masks(
    masks: dict[str, torch.Tensor] | None,
    agents: Sequence[str],
    own: torch.Tensor | None,
    batch_shape: torch.Size | tuple[int, ...],
) -> torch.Tensor | None:
    """The env's per-agent masks stacked to `(*batch, A, n_max)`, each padded with False to
    the largest count and restricted to the agent's own actions; None when neither the env
    nor the padding restricts anything (every action allowed)."""
    if masks is None:
        return None if own is None else own.expand(*batch_shape, *own.shape)
    if own is None:
        return torch.stack([masks[a].bool() for a in agents], -2)
    width = own.shape[-1]
    padded = [F.pad(masks[a].bool(), (0, width - masks[a].shape[-1]), value=False) for a in agents]
    return torch.stack(padded, -2) & own
