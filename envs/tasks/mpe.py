"""Multi-Particle Environments (the `mpe2` package) through the PettingZoo adapter.

They are the small cooperative tasks used for fast tests: discrete actions by
default (`continuous_actions=True` gives Box(0, 1, (5,)) actions), 25 steps per
episode, episodes end by truncation.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import torch

from envs.pettingzoo import from_pettingzoo
from envs.registry import register
from envs.vector.env import VectorEnv

# suite name -> (mpe2 module, description)
MPE_TASKS = {
    "simple_spread": ("simple_spread_v3", "N agents cover N landmarks without colliding"),
    "simple_reference": ("simple_reference_v3", "two agents guide each other to coloured landmarks"),
    "simple_speaker_listener": (
        "simple_speaker_listener_v4",
        "a speaker tells a listener which landmark to reach",
    ),
}


def make_mpe(
    scenario: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "sync",
    max_cycles: int = 25,
    **scenario_kwargs: Any,
) -> VectorEnv:
    """Build an MPE scenario; `scenario_kwargs` go to the mpe2 `parallel_env`."""
    module = importlib.import_module(f"mpe2.{MPE_TASKS[scenario][0]}")
    env_fn = functools.partial(module.parallel_env, max_cycles=max_cycles, **scenario_kwargs)
    return from_pettingzoo(
        env_fn,
        num_envs=num_envs,
        device=device,
        vector=vector,
        seed=seed,
        validate_actions=validate_actions,
        name=f"mpe2/{scenario}",
        family="mpe2",
        max_episode_steps=max_cycles,
        state="concat_obs",  # what mpe2's state() returns, without observing every agent again
    )


def register_mpe_tasks() -> None:
    for name, (_, description) in MPE_TASKS.items():
        register(
            f"mpe2/{name}",
            "envs.tasks.mpe:make_mpe",
            family="mpe2",
            description=description,
            scenario=name,
        )
