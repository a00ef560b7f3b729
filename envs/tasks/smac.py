"""SMAC and SMACv2 on StarCraft II, one game per copy behind the suite's vectors.

`smac` / `smacv2` and the game are installed by the user (neither is on PyPI in a
usable form, and the game is a separate download): see `SMAC_INSTALL`. Registration
only records entry-point strings, so nothing here imports them until a task is made.

`env_factory=` replaces the game class (same constructor and methods as
`smac.env.StarCraft2Env`); the tests pass a scripted stand-in through it.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import Any

import torch

from envs.errors import MissingDependencyError
from envs.extras import sc2_path
from envs.registry import register
from envs.vector.env import VectorEnv

SMAC_INSTALL = (
    "SMAC needs the `smac` package and the StarCraft II game with the SMAC maps: "
    "pip install git+https://github.com/oxwhirl/smac.git (SMACv2: "
    "pip install git+https://github.com/oxwhirl/smacv2.git), then download StarCraft II "
    "for Linux (SC2.4.10 from https://github.com/Blizzard/s2client-proto#downloads), "
    "unzip it (password 'iagreetotheeula'), copy the SMAC_Maps folder of smac (and of "
    "smacv2, with the 10gen_* maps) into StarCraftII/Maps/ and set SC2PATH to the "
    "StarCraftII folder (default ~/StarCraftII)."
)

# SMAC map name -> description (maps ship with smac's SMAC_Maps).
SMAC_MAPS = {
    "3m": "3 marines each side",
    "8m": "8 marines each side",
    "25m": "25 marines each side",
    "5m_vs_6m": "5 marines vs 6 marines",
    "8m_vs_9m": "8 marines vs 9 marines",
    "10m_vs_11m": "10 marines vs 11 marines",
    "27m_vs_30m": "27 marines vs 30 marines",
    "MMM": "marines, marauders and a medivac each side",
    "MMM2": "1 medivac, 2 marauders, 7 marines vs 1 medivac, 3 marauders, 8 marines",
    "2s3z": "2 stalkers and 3 zealots each side",
    "3s5z": "3 stalkers and 5 zealots each side",
    "3s5z_vs_3s6z": "3 stalkers and 5 zealots vs 3 stalkers and 6 zealots",
    "3s_vs_3z": "3 stalkers vs 3 zealots",
    "3s_vs_4z": "3 stalkers vs 4 zealots",
    "3s_vs_5z": "3 stalkers vs 5 zealots",
    "1c3s5z": "1 colossus, 3 stalkers and 5 zealots each side",
    "2m_vs_1z": "2 marines vs 1 zealot",
    "corridor": "6 zealots vs 24 zerglings",
    "6h_vs_8z": "6 hydralisks vs 8 zealots",
    "2s_vs_1sc": "2 stalkers vs 1 spine crawler",
    "so_many_baneling": "7 zealots vs 32 banelings",
    "bane_vs_bane": "banelings and zerglings each side",
    "2c_vs_64zg": "2 colossi vs 64 zerglings",
}

# SMACv2 races: the map and the unit mix of SMACv2's example configs.
SMACV2_RACES = {
    "protoss": {"unit_types": ["stalker", "zealot", "colossus"], "weights": [0.45, 0.45, 0.1]},
    "terran": {
        "unit_types": ["marine", "marauder", "medivac"],
        "weights": [0.45, 0.45, 0.1],
        "exception_unit_types": ["medivac"],
    },
    "zerg": {
        "unit_types": ["zergling", "baneling", "hydralisk"],
        "weights": [0.45, 0.1, 0.45],
        "exception_unit_types": ["baneling"],
    },
}
SMACV2_SIZES = {"5v5": (5, 5), "10v10": (10, 10), "10v11": (10, 11), "20v20": (20, 20), "20v23": (20, 23)}
# SMACv2's example-config options besides the capability config.
SMACV2_DEFAULTS = {
    "conic_fov": False,
    "use_unit_ranges": True,
    "min_attack_range": 2,
    "obs_own_pos": True,
    "num_fov_actions": 12,
    "prob_obs_enemy": 0.0,
}


def smacv2_capability_config(race: str, n_units: int, n_enemies: int) -> dict[str, Any]:
    """The `capability_config` of SMACv2's example configs for `race` at this size."""
    return {
        "n_units": n_units,
        "n_enemies": n_enemies,
        "team_gen": {"dist_type": "weighted_teams", "observe": True, **SMACV2_RACES[race]},
        "start_positions": {"dist_type": "surrounded_and_reflect", "p": 0.5, "map_x": 32, "map_y": 32},
    }


def make_smac(
    map_name: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "subproc",
    env_factory: Callable[..., Any] | None = None,
    **sc2_kwargs: Any,
) -> VectorEnv:
    """SMAC `map_name`; `sc2_kwargs` go to `StarCraft2Env` (e.g. `difficulty`, `step_mul`,
    `reward_sparse`, `obs_last_action`)."""
    factory = env_factory or _real_class("smac.env", "StarCraft2Env")
    return _vector(
        factory,
        {"map_name": map_name, **sc2_kwargs},
        name=f"smac/{map_name}",
        family="smac",
        seed_global_rng=False,
        num_envs=num_envs,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        vector=vector,
    )


def make_smacv2(
    race: str,
    size: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "subproc",
    env_factory: Callable[..., Any] | None = None,
    capability_config: dict[str, Any] | None = None,
    **sc2_kwargs: Any,
) -> VectorEnv:
    """SMACv2 `10gen_<race>` with `size` units (e.g. "5v5") through
    `StarCraftCapabilityEnvWrapper`; `capability_config` replaces the example one."""
    factory = env_factory or _real_class("smacv2.env", "StarCraftCapabilityEnvWrapper")
    config = capability_config or smacv2_capability_config(race, *SMACV2_SIZES[size])
    kwargs = {**SMACV2_DEFAULTS, "map_name": f"10gen_{race}", "capability_config": config, **sc2_kwargs}
    return _vector(
        factory,
        kwargs,
        name=f"smacv2/10gen_{race}_{size}",
        family="smacv2",
        seed_global_rng=True,
        num_envs=num_envs,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        vector=vector,
    )


def _vector(
    factory: Callable[..., Any],
    kwargs: dict[str, Any],
    *,
    name: str,
    family: str,
    seed_global_rng: bool,
    num_envs: int,
    device: torch.device | str,
    seed: int | None,
    validate_actions: bool,
    vector: str,
) -> VectorEnv:
    from envs.tasks.starcraft_copy import StarCraftCopy

    # Copy i's game is launched with seed + i (by VectorEnv's first reset).
    env_fn = functools.partial(StarCraftCopy, factory, kwargs, seed_global_rng=seed_global_rng)
    return VectorEnv(
        [env_fn] * num_envs,
        name=name,
        family=family,
        vector=vector,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        metadata={"sc2_kwargs": kwargs},
    )


def _real_class(module: str, attribute: str) -> Callable[..., Any]:
    """The real game class, or a MissingDependencyError that says how to install it."""
    try:
        cls = getattr(importlib.import_module(module), attribute)
    except ImportError as error:
        raise MissingDependencyError(
            f"{module.split('.')[0]} is not importable ({error}). {SMAC_INSTALL}"
        ) from None
    sc2path = sc2_path()
    if not os.path.isdir(sc2path):
        raise MissingDependencyError(f"StarCraft II was not found at {sc2path!r}. {SMAC_INSTALL}")
    return cls


def register_smac_tasks() -> None:
    """Register `smac/<map>` and `smacv2/10gen_<race>_<size>` (no smac import)."""
    for map_name, description in SMAC_MAPS.items():
        register(
            f"smac/{map_name}",
            "envs.tasks.smac:make_smac",
            family="smac",
            requires="smac",
            description=f"SMAC on StarCraft II: {description}",
            map_name=map_name,
        )
    for race in SMACV2_RACES:
        for size in SMACV2_SIZES:
            register(
                f"smacv2/10gen_{race}_{size}",
                "envs.tasks.smac:make_smacv2",
                family="smacv2",
                requires="smacv2",
                description=f"SMACv2 on StarCraft II: random {race} teams, {size}",
                race=race,
                size=size,
            )
