"""Google Research Football (`gfootball`): academy scenarios and full games.

One game per copy, stepped through the suite's subprocess vector by default (the
engine is single-threaded C++). gfootball builds from source:
`scripts/install_football.sh`. Registration only records entry-point strings.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from envs.errors import MissingDependencyError
from envs.registry import register
from envs.vector.env import VectorEnv

# scenario -> (controlled left players by default, description). Academy counts follow
# the usual MARL set-up (outfield attackers); full games control the whole team.
FOOTBALL_SCENARIOS = {
    "academy_empty_goal_close": (1, "shoot into an empty goal from close range"),
    "academy_empty_goal": (1, "run and shoot into an empty goal"),
    "academy_run_to_score": (1, "run to score with defenders chasing"),
    "academy_run_to_score_with_keeper": (1, "run to score against a keeper"),
    "academy_pass_and_shoot_with_keeper": (2, "two attackers pass and shoot against a defender and keeper"),
    "academy_run_pass_and_shoot_with_keeper": (2, "run, pass and shoot against a defender and keeper"),
    "academy_3_vs_1_with_keeper": (3, "three attackers against one defender and a keeper"),
    "academy_corner": (10, "score from a corner kick"),
    "academy_counterattack_easy": (4, "4 attackers counter against 1 defender"),
    "academy_counterattack_hard": (4, "4 attackers counter against 2 defenders"),
    "academy_single_goal_versus_lazy": (10, "full team against opponents who do not move"),
    "5_vs_5": (4, "5-a-side match, the four outfield players controlled"),
    "11_vs_11_easy_stochastic": (11, "full match against the easy built-in AI"),
    "11_vs_11_stochastic": (11, "full match against the medium built-in AI"),
    "11_vs_11_hard_stochastic": (11, "full match against the hard built-in AI"),
}


def make_football(
    scenario: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "subproc",
    num_agents: int | None = None,
    representation: str = "simple115v2",
    rewards: str = "scoring",
    render_mode: str | None = None,
    width: int = 480,
    height: int = 480,
    **football_kwargs: Any,
) -> VectorEnv:
    """`num_envs` games of `scenario`; `rewards="scoring,checkpoints"` adds the shaping,
    `football_kwargs` go to `gfootball.env.create_environment`. With
    `render_mode="rgb_array"`, `env.render(i)` draws game i from above at width x height."""
    try:  # fail here, in the caller, rather than in every worker
        import gfootball.env  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            f"task 'football/{scenario}' needs gfootball, which is not importable ({error}). "
            "It builds from source: pip install 'marlsuite[football]' && bash scripts/install_football.sh"
        ) from None
    from envs.tasks.football_copy import FootballCopy, check_render_options

    check_render_options(render_mode, width, height)  # here, not in every worker
    env_fn = functools.partial(
        FootballCopy,
        scenario,
        num_agents or FOOTBALL_SCENARIOS[scenario][0],
        representation=representation,
        rewards=rewards,
        render_mode=render_mode,
        width=width,
        height=height,
        **football_kwargs,
    )
    return VectorEnv(
        [env_fn] * num_envs,
        name=f"football/{scenario}",
        family="football",
        vector=vector,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        metadata={
            "scenario": scenario,
            "representation": representation,
            "rewards": rewards,
            "render_modes": ("rgb_array",),
            # as gfootball's own videos: 100 physics steps a second, 10 per env step
            "render_fps": 10.0,
        },
    )


def register_football_tasks() -> None:
    """Register `football/<scenario>` (no gfootball import)."""
    for scenario, (_, description) in FOOTBALL_SCENARIOS.items():
        register(
            f"football/{scenario}",
            "envs.tasks.football:make_football",
            family="football",
            extra="football",
            description=f"Google Research Football: {description}",
            scenario=scenario,
        )
