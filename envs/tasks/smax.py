"""SMAX: JaxMARL's JAX re-implementation of SMAC, runnable without StarCraft II.

Registration only records entry-point strings; JAX and jaxmarl are imported when a
task is made (`envs.tasks.smax_env`). The learner controls the allied team; the
enemies follow JaxMARL's heuristic policy (`HeuristicEnemySMAX`), as in SMAC.
"""

from __future__ import annotations

from typing import Any

import torch

from envs.registry import register

# jaxmarl 0.2.0's built-in scenarios (`jaxmarl.environments.smax.MAP_NAME_TO_SCENARIO`),
# listed here so that registering them needs no JAX import.
SMAX_MAPS = {
    "3m": "3 marines vs 3 marines",
    "8m": "8 marines vs 8 marines",
    "25m": "25 marines vs 25 marines",
    "5m_vs_6m": "5 marines vs 6 marines",
    "10m_vs_11m": "10 marines vs 11 marines",
    "27m_vs_30m": "27 marines vs 30 marines",
    "2s3z": "2 stalkers and 3 zealots on each side",
    "3s5z": "3 stalkers and 5 zealots on each side",
    "3s5z_vs_3s6z": "3 stalkers and 5 zealots vs 3 stalkers and 6 zealots",
    "3s_vs_5z": "3 stalkers vs 5 zealots",
    "6h_vs_8z": "6 hydralisks vs 8 zealots",
    "smacv2_5_units": "SMACv2-style random unit types and start positions, 5 vs 5",
    "smacv2_10_units": "SMACv2-style random unit types and start positions, 10 vs 10",
    "smacv2_20_units": "SMACv2-style random unit types and start positions, 20 vs 20",
}


def make_smax(
    map_name: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "sync",
    **smax_kwargs: Any,
):
    """Build `num_envs` copies of an SMAX map, stepped together under `jax.jit(jax.vmap(...))`.

    `smax_kwargs` go to JaxMARL's `HeuristicEnemySMAX` (e.g. `max_steps`,
    `won_battle_bonus`, `observation_type`, `enemy_shoots`, `attack_mode`). `vector` is
    accepted for callers that pass it to every task (`python -m envs check`): SMAX is
    batched natively, in this process, so only "sync" makes sense.
    """
    if vector != "sync":
        raise ValueError(
            f"smax/{map_name} steps all copies in one JAX call; vector={vector!r} does not apply"
        )
    from envs.tasks.smax_env import SmaxEnv  # imports jax and jaxmarl

    return SmaxEnv(
        map_name,
        num_envs=num_envs,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        **smax_kwargs,
    )


def register_smax_tasks() -> None:
    """Register `smax/<map>` for every built-in SMAX scenario (no JAX import)."""
    for map_name, description in SMAX_MAPS.items():
        register(
            f"smax/{map_name}",
            "envs.tasks.smax:make_smax",
            family="smax",
            extra="smax",
            description=f"SMAX (JAX SMAC): {description}",
            map_name=map_name,
        )
