"""EpisodeStats reports the same statistics as the per-copy vector bookkeeping."""

from __future__ import annotations

import math

import torch

from envs.episodes import EpisodeStats


def test_returns_lengths_and_costs_on_a_scripted_trajectory():
    stats = EpisodeStats(2, "cpu", with_cost=True)
    info = stats.reset()
    assert set(info) == {"episode_return", "episode_length", "episode_cost"}
    assert all(torch.isnan(v).all() for v in info.values())
    rewards = [(1.0, 3.0), (2.0, 2.0), (0.0, 4.0)]  # per step: (agent a, agent b) for both copies
    dones = [(False, False), (True, False), (False, True)]
    for (ra, rb), (d0, d1) in zip(rewards, dones, strict=False):
        reward = {"a": torch.tensor([ra, ra]), "b": torch.tensor([rb, rb])}
        cost = {"a": torch.tensor([1.0, 0.0]), "b": torch.tensor([0.0, 0.0])}
        info = stats.update(reward, torch.tensor([d0, d1]), cost)
        if (d0, d1) == (True, False):
            assert info["episode_return"][0].item() == 2.0 + 2.0  # mean(1,3) + mean(2,2)
            assert info["episode_length"][0].item() == 2
            assert info["episode_cost"][0].item() == 0.5 + 0.5
            assert math.isnan(info["episode_return"][1].item())
    # copy 0 restarted after step 2, so its running sums hold only step 3; copy 1 ended at step 3
    assert info["episode_return"][1].item() == 2.0 + 2.0 + 2.0
    assert info["episode_length"][1].item() == 3
    assert info["episode_cost"][1].item() == 0.0
    assert math.isnan(info["episode_return"][0].item())
