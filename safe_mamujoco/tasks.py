"""The task tables: plain MaMuJoCo tasks and the safe tasks built on them.

Each safe task names the source of its cost limit in its spec metadata (`cost_limit`,
`cost_limit_source`) so baselines can default to it; where upstream has no preset the
limit is ours and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from envs.vector.env import VectorEnv

from safe_mamujoco.constraints import Constraint, VelocityConstraint

# Plain reward-only tasks registered as `mamujoco/<Robot>-<partition>`.
MAMUJOCO_TASKS: tuple[tuple[str, str], ...] = (
    ("HalfCheetah", "2x3"),
    ("HalfCheetah", "3x2"),
    ("HalfCheetah", "6x1"),
    ("Ant", "2x4"),
    ("Ant", "2x4d"),
    ("Ant", "4x2"),
    ("Ant", "8x1"),
    ("Hopper", "3x1"),
    ("Humanoid", "9|8"),
    ("HumanoidStandup", "9|8"),
    ("Reacher", "2x1"),
    ("Pusher", "3p"),
    ("Swimmer", "2x1"),
    ("Walker2d", "2x3"),
    ("CoupledHalfCheetah", "1p1"),
    ("ManySegmentSwimmer", "10x2"),
    ("ManySegmentSwimmer", "4x2"),
    ("ManySegmentAnt", "2x3"),
    ("ManySegmentAnt", "3x2"),
    ("ManySegmentAnt", "6x1"),
)

SAFETY_GYMNASIUM = "Safety-Gymnasium multi-agent velocity tasks (Ji et al., 2023)"
MACPO = "MACPO / MAPPO-L, Safe Multi-Agent MuJoCo (Gu et al., 2023)"
OURS_AFTER_MACPO = "ours, after MACPO's task of the same robot (its upstream code is broken; see FIDELITY.md)"
VELOCITY_COST_LIMIT = 25.0  # Safety-Gymnasium / OmniSafe's default episode cost limit
ANT_2X4_LIMIT = (
    "MAPPO-L's Ant 2x4 script (--safety_bound 0.2, an episode-sum budget); MACPO's own script uses 10"
)
ANT_CARRIED_LIMIT = "no upstream preset for this partition: MAPPO-L's Ant 2x4 budget (0.2) carried over"
NO_PUBLISHED_LIMIT = "no upstream preset for this task: the suite's own episode-sum budget"


@dataclass(frozen=True)
class SafeTask:
    """A robot, a partition and its cost, with a cost limit and where that limit comes from.

    Velocity tasks add `constraint` to the plain MaMuJoCo robot; obstacle tasks
    (`constraint` None) are MACPO's scenes, built by `safe_mamujoco.macpo`.
    """

    robot: str
    agent_conf: str
    cost_limit: float
    cost_limit_source: str
    source: str
    constraint: Constraint | None = None
    obstacle: str = ""  # obstacle tasks: "corridor", "bomb" or "moving_obstacle"

    @property
    def kind(self) -> str:
        return self.constraint.kind if self.constraint is not None else self.obstacle

    @property
    def description(self) -> str:
        return f"{self.robot} {self.agent_conf} with a {self.kind} cost ({self.source.split(',')[0]})"

    def metadata(self) -> dict[str, Any]:
        return {
            "cost_limit": self.cost_limit,
            "cost_limit_source": self.cost_limit_source,
            "source": self.source,
        }


def _velocity(robot: str, conf: str, threshold: float, *, planar: bool = True) -> SafeTask:
    return SafeTask(
        robot,
        conf,
        VELOCITY_COST_LIMIT,
        "Safety-Gymnasium default",
        SAFETY_GYMNASIUM,
        VelocityConstraint(threshold, planar=planar),
    )


def _ant_corridor(conf: str) -> SafeTask:
    limit_source = ANT_2X4_LIMIT if conf == "2x4" else ANT_CARRIED_LIMIT
    return SafeTask("Ant", conf, 0.2, limit_source, MACPO, obstacle="corridor")


SAFE_TASKS: dict[str, SafeTask] = {
    "SafeAnt2x4Velocity": _velocity("Ant", "2x4", 2.522),
    "SafeAnt4x2Velocity": _velocity("Ant", "4x2", 2.418),
    "SafeHalfCheetah6x1Velocity": _velocity("HalfCheetah", "6x1", 2.932),
    "SafeHalfCheetah2x3Velocity": _velocity("HalfCheetah", "2x3", 3.227),
    "SafeHopper3x1Velocity": _velocity("Hopper", "3x1", 0.9613),
    "SafeHumanoid9|8Velocity": _velocity("Humanoid", "9|8", 0.58),
    "SafeSwimmer2x1Velocity": _velocity("Swimmer", "2x1", 0.04891, planar=False),
    "SafeWalker2d2x3Velocity": _velocity("Walker2d", "2x3", 1.641),
    **{f"SafeAnt{conf}Corridor": _ant_corridor(conf) for conf in ("2x4", "4x2", "8x1")},
    **{
        f"SafeManyAgentAnt{conf}Corridor": SafeTask(
            "ManySegmentAnt", conf, 1.0, NO_PUBLISHED_LIMIT, MACPO, obstacle="corridor"
        )
        for conf in ("2x3", "3x2", "6x1")
    },
    **{
        f"SafeHalfCheetah{conf}Bomb": SafeTask(
            "HalfCheetah", conf, 5.0, NO_PUBLISHED_LIMIT, MACPO, obstacle="bomb"
        )
        for conf in ("2x3", "3x2", "6x1")
    },
    "SafeHopper3x1Obstacle": SafeTask(
        "Hopper", "3x1", 5.0, NO_PUBLISHED_LIMIT, OURS_AFTER_MACPO, obstacle="moving_obstacle"
    ),
    "SafeCoupledHalfCheetah1p1Bomb": SafeTask(
        "CoupledHalfCheetah", "1p1", 5.0, NO_PUBLISHED_LIMIT, OURS_AFTER_MACPO, obstacle="bomb"
    ),
}


def make_safe_task(
    task: str,
    *,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    **options: Any,
) -> VectorEnv:
    """Build a safe task by its short name (e.g. `SafeAnt2x4Corridor`).

    Velocity tasks take `make_mamujoco`'s options; obstacle tasks `macpo.make_macpo`'s
    (`observation`, `agent_obsk`, `fix_wall_slicing`, `max_episode_steps`, `vector`, rendering).
    """
    if task not in SAFE_TASKS:
        raise ValueError(f"unknown safe task {task!r}; valid: {', '.join(SAFE_TASKS)}")
    safe = SAFE_TASKS[task]
    if "robot" in options or "agent_conf" in options:
        raise ValueError(
            f"{task} fixes its robot and partition ({safe.robot} {safe.agent_conf}); build other "
            "partitions with safe_mamujoco.macpo.make_macpo(robot=..., agent_conf=...) (obstacles) or "
            "safe_mamujoco.make_mamujoco(robot=..., agent_conf=..., constraint=...) (velocity)"
        )
    common = {"num_envs": num_envs, "device": device, "seed": seed, "validate_actions": validate_actions}
    metadata = {"task": task, **safe.metadata()}
    if safe.constraint is None:  # imports MuJoCo, so only when a task is made
        from safe_mamujoco.macpo import make_macpo

        return make_macpo(
            robot=safe.robot, agent_conf=safe.agent_conf, metadata=metadata, **common, **options
        )
    from safe_mamujoco.env import make_mamujoco

    return make_mamujoco(
        robot=safe.robot,
        agent_conf=safe.agent_conf,
        constraint=safe.constraint,
        metadata=metadata,
        **common,
        **options,
    )
