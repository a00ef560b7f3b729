"""Which robots exist and how each may be split into agents.

Gymnasium-Robotics' `mamujoco_v1` knows most partitions; the MACPO papers also use
HalfCheetah 3x2 and Ant 8x1, which it lacks, so those are built here from its own
joint nodes (same joints, same graph, other grouping).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MANY_SEGMENT = re.compile(r"^([1-9]\d*)x([1-9]\d*)$")


@dataclass(frozen=True)
class Robot:
    """A MaMuJoCo robot: its scenario name in `mamujoco_v1` and its agent partitions."""

    scenario: str
    partitions: tuple[str, ...] = ()
    any_nxm: bool = False  # ManySegment robots accept any "<agents>x<segments per agent>"
    extra_partitions: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)

    def valid_partitions(self) -> str:
        listed = ", ".join(repr(p) for p in (*self.partitions, *self.extra_partitions))
        return f"{listed}, or any 'NxM'" if self.any_nxm else listed


def _regroup(scenario: str, base_conf: str, groups: list[tuple[str, ...]]) -> Callable[[], dict[str, Any]]:
    """A factorisation that groups `base_conf`'s joint nodes (by label) as `groups`."""

    def build() -> dict[str, Any]:
        from gymnasium_robotics.envs.multiagent_mujoco.obsk import get_parts_and_edges

        parts, edges, globals_ = get_parts_and_edges(scenario, base_conf)
        nodes = {node.label: node for part in parts for node in part}
        return {
            "partition": [tuple(nodes[label] for label in group) for group in groups],
            "edges": edges,
            "globals": globals_,
        }

    return build


ROBOTS: dict[str, Robot] = {
    robot.scenario: robot
    for robot in (
        Robot(
            "HalfCheetah",
            ("2x3", "6x1"),
            # MACPO's 3x2 grouping
            extra_partitions={
                "3x2": _regroup(
                    "HalfCheetah", "6x1", [("bfoot", "bshin"), ("bthigh", "ffoot"), ("fshin", "fthigh")]
                )
            },
        ),
        Robot(
            "Ant",
            ("2x4", "2x4d", "4x2"),
            extra_partitions={
                "8x1": _regroup(
                    "Ant", "4x2", [(f"{j}{leg}",) for leg in range(1, 5) for j in ("hip", "ankle")]
                )
            },
        ),
        Robot("Hopper", ("3x1",)),
        Robot("Humanoid", ("9|8",)),
        Robot("HumanoidStandup", ("9|8",)),
        Robot("Reacher", ("2x1",)),
        Robot("Pusher", ("3p",)),
        Robot("Swimmer", ("2x1",)),
        Robot("Walker2d", ("2x3",)),
        Robot("CoupledHalfCheetah", ("1p1",)),
        Robot("ManySegmentSwimmer", any_nxm=True),
        Robot("ManySegmentAnt", any_nxm=True),
    )
}

ALIASES = {"ManyAgentAnt": "ManySegmentAnt", "ManyAgentSwimmer": "ManySegmentSwimmer"}


def resolve(robot: str, agent_conf: str) -> tuple[Robot, dict[str, Any] | None]:
    """The robot and, for partitions built here, the factorisation to give `mamujoco_v1`.

    Raises `ValueError` naming the valid robots or partitions.
    """
    name = ALIASES.get(robot, robot)
    if name not in ROBOTS:
        raise ValueError(f"unknown MaMuJoCo robot {robot!r}; valid robots: {', '.join(sorted(ROBOTS))}")
    spec = ROBOTS[name]
    if agent_conf in spec.partitions:
        return spec, None
    if agent_conf in spec.extra_partitions:
        return spec, spec.extra_partitions[agent_conf]()
    if spec.any_nxm and isinstance(agent_conf, str) and MANY_SEGMENT.match(agent_conf):
        return spec, None
    raise ValueError(
        f"invalid partition {agent_conf!r} for {name}; valid partitions: {spec.valid_partitions()}"
    )
