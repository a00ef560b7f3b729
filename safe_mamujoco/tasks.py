"""The task tables: plain MaMuJoCo tasks and the safe tasks built on them.

Thresholds and limits are the published ones; each safe task names its source in its
spec metadata (`cost_limit`, `cost_limit_source`) so baselines can default to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from envs.vector.env import VectorEnv

from safe_mamujoco.constraints import (
    BombConstraint,
    Constraint,
    CorridorConstraint,
    MovingObstacleConstraint,
    VelocityConstraint,
)

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
VELOCITY_COST_LIMIT = 25.0  # Safety-Gymnasium / OmniSafe's default episode cost limit
NO_PUBLISHED_LIMIT = "no published limit for this task: the suite's default, as for the HalfCheetah bomb"


@dataclass(frozen=True)
class SafeTask:
    """A robot, a partition and a constraint, with the literature's cost limit."""

    robot: str
    agent_conf: str
    constraint: Constraint
    cost_limit: float
    cost_limit_source: str
    source: str

    @property
    def description(self) -> str:
        return (
            f"{self.robot} {self.agent_conf} with a {self.constraint.kind} cost ({self.source.split(',')[0]})"
        )

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
        VelocityConstraint(threshold, planar=planar),
        VELOCITY_COST_LIMIT,
        "Safety-Gymnasium default",
        SAFETY_GYMNASIUM,
    )


def _corridor(robot: str, conf: str) -> SafeTask:
    many = robot == "ManySegmentAnt"
    return SafeTask(
        robot,
        conf,
        CorridorConstraint(wall_offset=4.5 if many else 5.0),
        1.0 if many else 0.2,
        MACPO,
        MACPO,
    )


def _bomb(conf: str) -> SafeTask:
    return SafeTask("HalfCheetah", conf, BombConstraint(radius=9.0), 5.0, MACPO, MACPO)


SAFE_TASKS: dict[str, SafeTask] = {
    "SafeAnt2x4Velocity": _velocity("Ant", "2x4", 2.522),
    "SafeAnt4x2Velocity": _velocity("Ant", "4x2", 2.418),
    "SafeHalfCheetah6x1Velocity": _velocity("HalfCheetah", "6x1", 2.932),
    "SafeHalfCheetah2x3Velocity": _velocity("HalfCheetah", "2x3", 3.227),
    "SafeHopper3x1Velocity": _velocity("Hopper", "3x1", 0.9613),
    "SafeHumanoid9|8Velocity": _velocity("Humanoid", "9|8", 0.58),
    "SafeSwimmer2x1Velocity": _velocity("Swimmer", "2x1", 0.04891, planar=False),
    "SafeWalker2d2x3Velocity": _velocity("Walker2d", "2x3", 1.641),
    **{f"SafeAnt{conf}Corridor": _corridor("Ant", conf) for conf in ("2x4", "4x2", "8x1")},
    **{
        f"SafeManyAgentAnt{conf}Corridor": _corridor("ManySegmentAnt", conf) for conf in ("2x3", "3x2", "6x1")
    },
    **{f"SafeHalfCheetah{conf}Bomb": _bomb(conf) for conf in ("2x3", "3x2", "6x1")},
    "SafeHopper3x1Obstacle": SafeTask(
        "Hopper", "3x1", MovingObstacleConstraint(radius=1.0), 5.0, NO_PUBLISHED_LIMIT, MACPO
    ),
    "SafeCoupledHalfCheetah1p1Bomb": SafeTask(
        "CoupledHalfCheetah",
        "1p1",
        BombConstraint(radius=5.0, robot_x_qpos=(0, 9)),
        5.0,
        NO_PUBLISHED_LIMIT,
        MACPO,
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
    """Build a safe task by its short name (e.g. `SafeAnt2x4Corridor`); options as `make_mamujoco`."""
    if task not in SAFE_TASKS:
        raise ValueError(f"unknown safe task {task!r}; valid: {', '.join(SAFE_TASKS)}")
    from safe_mamujoco.env import make_mamujoco  # imports MuJoCo, so only when a task is made

    safe = SAFE_TASKS[task]
    if "robot" in options or "agent_conf" in options:
        raise ValueError(
            f"{task} fixes its robot and partition ({safe.robot} {safe.agent_conf}); "
            "build other combinations with safe_mamujoco.make_mamujoco(robot=..., agent_conf=..., constraint=...)"
        )
    env = make_mamujoco(
        robot=safe.robot,
        agent_conf=safe.agent_conf,
        num_envs=num_envs,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        constraint=safe.constraint,
        metadata={"task": task, **safe.metadata()},
        **options,
    )
    return env
