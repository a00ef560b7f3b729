"""Constraints: a cost added to a plain MaMuJoCo robot (the velocity tasks).

A constraint may edit the robot's MJCF before the model is built, is told when an env
step starts, and computes the step's cost from the simulator state after it. The
definitions themselves live in `safe_mamujoco.costs`. The obstacle tasks are not
constraints on a plain robot: they are MACPO's own scenes (`safe_mamujoco.macpo`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from safe_mamujoco import costs


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


__all__ = ["Constraint", "VelocityConstraint"]
