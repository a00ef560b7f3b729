"""Constraints: what a safe task adds to a MaMuJoCo robot (scene objects and a cost).

A constraint edits the robot's MJCF before the model is built, is told when an env
step starts, and computes the step's cost from the simulator state after it. The
definitions themselves live in `safe_mamujoco.costs`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from safe_mamujoco import costs
from safe_mamujoco.obstacles import (
    BOMB_BODY,
    OBSTACLE_BODY,
    SlidingBomb,
    add_corridor_walls,
    add_mocap_box,
)


class Constraint:
    """Base class: no scene objects, no state."""

    kind: str = "none"
    camera: dict[str, float] | None = None  # a render camera that shows the obstacles

    def edit_scene(self, root: ET.Element) -> None:
        """Add this constraint's objects to the robot's MJCF (default: nothing)."""

    def reset(self, env: Any) -> None:
        """Called after the robot is reset (`env` is the unwrapped Gymnasium MuJoCo env)."""

    def before_step(self, env: Any) -> None:
        """Called just before the physics of an env step runs."""

    def cost(self, env: Any, info: dict[str, Any]) -> float:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.kind}


@dataclass
class VelocityConstraint(Constraint):
    """Safety-Gymnasium velocity task: speed from the env's finite-difference velocities."""

    threshold: float
    planar: bool = True
    kind: str = field(default="velocity", init=False)

    def cost(self, env: Any, info: dict[str, Any]) -> float:
        return costs.velocity_cost(
            float(info["x_velocity"]), float(info.get("y_velocity", 0.0)), self.threshold, planar=self.planar
        )

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.kind, "velocity_threshold": self.threshold, "planar_speed": self.planar}


@dataclass
class CorridorConstraint(Constraint):
    """MACPO's folded corridor for ant-like robots (torso = the free joint's body)."""

    wall_offset: float
    kind: str = field(default="corridor", init=False)
    camera: dict[str, float] | None = field(
        default_factory=lambda: {"type": 1, "trackbodyid": 1, "distance": 14.0, "elevation": -40.0},
        init=False,
    )

    def edit_scene(self, root: ET.Element) -> None:
        add_corridor_walls(root, self.wall_offset)

    def cost(self, env: Any, info: dict[str, Any]) -> float:
        return costs.corridor_cost(env.data.qpos, env.data.qvel, self.wall_offset)

    def describe(self) -> dict[str, Any]:
        return {
            "constraint": self.kind,
            "wall_offset": self.wall_offset,
            "wall_margin": costs.CORRIDOR_MARGIN,
        }


@dataclass
class BombConstraint(Constraint):
    """A bomb sliding along the track; cost when any robot's root x is within `radius` of it."""

    radius: float
    robot_x_qpos: tuple[int, ...] = (0,)
    bomb: SlidingBomb = field(default_factory=SlidingBomb)
    kind: str = field(default="bomb", init=False)
    camera: dict[str, float] | None = field(
        default_factory=lambda: {
            "type": 1,
            "trackbodyid": 1,
            "distance": 16.0,
            "elevation": -15.0,
            "azimuth": 90.0,
        },
        init=False,
    )

    def edit_scene(self, root: ET.Element) -> None:
        add_mocap_box(root, BOMB_BODY, (self.bomb.start_x, 0.0, 1.3), (0.1, 2.3, 1.3))

    def reset(self, env: Any) -> None:
        self.bomb.reset()
        self._place(env)

    def before_step(self, env: Any) -> None:
        self.bomb.advance(env.data.time, env.model.opt.timestep, env.frame_skip)

    def cost(self, env: Any, info: dict[str, Any]) -> float:
        self._place(env)
        qpos, bomb_x = env.data.qpos, self.bomb.x
        if len(self.robot_x_qpos) == 1:  # one robot: skip the generator (this runs every step)
            return costs.proximity_cost(qpos[self.robot_x_qpos[0]], bomb_x, self.radius)
        return max(costs.proximity_cost(qpos[i], bomb_x, self.radius) for i in self.robot_x_qpos)

    def _place(self, env: Any) -> None:
        env.data.mocap_pos[0, 0] = self.bomb.x

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.kind, "radius": self.radius}


@dataclass
class MovingObstacleConstraint(Constraint):
    """MACPO's Hopper obstacle at x = t + sin t + 3; cost when the hopper is within `radius`."""

    radius: float = 1.0
    kind: str = field(default="moving_obstacle", init=False)
    camera: dict[str, float] | None = field(
        default_factory=lambda: {
            "type": 1,
            "trackbodyid": 1,
            "distance": 6.0,
            "elevation": -10.0,
            "azimuth": 90.0,
        },
        init=False,
    )

    def edit_scene(self, root: ET.Element) -> None:
        add_mocap_box(root, OBSTACLE_BODY, (costs.hopper_obstacle_x(0.0), 0.0, 0.5), (0.1, 0.5, 0.5))

    def reset(self, env: Any) -> None:
        self._place(env)

    def cost(self, env: Any, info: dict[str, Any]) -> float:
        x = self._place(env)
        return costs.proximity_cost(float(env.data.qpos[0]), x, self.radius)

    def _place(self, env: Any) -> float:
        x = costs.hopper_obstacle_x(float(env.data.time))
        env.data.mocap_pos[0, 0] = x
        return x

    def describe(self) -> dict[str, Any]:
        return {"constraint": self.kind, "radius": self.radius}


def obstacle_x(constraint: Constraint, env: Any) -> float | None:
    """Where a moving obstacle is now (for tests and plots); None for other constraints."""
    if isinstance(constraint, BombConstraint):
        return constraint.bomb.x
    if isinstance(constraint, MovingObstacleConstraint):
        return costs.hopper_obstacle_x(float(env.data.time))
    return None


__all__ = [
    "BombConstraint",
    "Constraint",
    "CorridorConstraint",
    "MovingObstacleConstraint",
    "VelocityConstraint",
    "obstacle_x",
]
