"""Obstacles in the scene: corridor walls, the sliding bomb, the moving obstacle.

They are added to the robot's MJCF as geoms that do not collide (`contype=0`,
`conaffinity=0`), and the moving ones as mocap bodies (no degrees of freedom), so a
rendered frame shows them while the robot's dynamics, observations and reward stay
exactly those of the plain MaMuJoCo task: the cost is what keeps the robot away.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from safe_mamujoco.costs import bomb_control, corridor_centre_y

OBSTACLE_RGBA = "1 0.5 0.5 0.8"
CORRIDOR_X_RANGE = (-10.0, 140.0)
CORRIDOR_FOLDS = (20.0, 60.0, 100.0)
BOMB_BODY = "safe_bomb"
OBSTACLE_BODY = "safe_obstacle"


def _visual_geom(
    parent: ET.Element, name: str, pos: tuple[float, ...], size: tuple[float, ...], **attrib: str
):
    return ET.SubElement(
        parent,
        "geom",
        name=name,
        type="box",
        pos=" ".join(f"{v:.6g}" for v in pos),
        size=" ".join(f"{v:.6g}" for v in size),
        contype="0",
        conaffinity="0",
        rgba=OBSTACLE_RGBA,
        **attrib,
    )


def add_corridor_walls(root: ET.Element, wall_offset: float, height: float = 0.5) -> None:
    """Two walls at y = centre(x) -+ `wall_offset`, one box per straight piece of the corridor."""
    worldbody = root.find("worldbody")
    xs = (CORRIDOR_X_RANGE[0], *CORRIDOR_FOLDS, CORRIDOR_X_RANGE[1])
    for piece, (x0, x1) in enumerate(zip(xs[:-1], xs[1:], strict=True)):
        y0, y1 = corridor_centre_y(x0), corridor_centre_y(x1 - 1e-9)
        angle = math.atan2(y1 - y0, x1 - x0)
        length = math.hypot(x1 - x0, y1 - y0)
        quat = f"{math.cos(angle / 2):.9g} 0 0 {math.sin(angle / 2):.9g}"
        for side, sign in (("right", -1.0), ("left", 1.0)):
            centre = ((x0 + x1) / 2, (y0 + y1) / 2 + sign * wall_offset, height)
            _visual_geom(worldbody, f"safe_wall_{side}_{piece}", centre, (length / 2, 0.1, height), quat=quat)


def add_mocap_box(
    root: ET.Element, name: str, pos: tuple[float, float, float], size: tuple[float, ...]
) -> None:
    """A kinematic box whose position the env sets every step."""
    worldbody = root.find("worldbody")
    body = ET.SubElement(worldbody, "body", name=name, mocap="true", pos=" ".join(f"{v:.6g}" for v in pos))
    # massless, or a model's `settotalmass` would rescale the robot to make room for it
    _visual_geom(body, f"{name}_geom", (0.0, 0.0, 0.0), size, mass="0")


@dataclass
class SlidingBomb:
    """MACPO's bomb: a box on a damped slide joint pushed by a motor with `bomb_control(t)`.

    The original puts it in the robot's model (an extra joint and actuator, which change
    the observation and action sizes); here the same one-dimensional dynamics are
    integrated alongside, the way MuJoCo's Euler integrator treats joint damping
    (implicitly), at the physics timestep, with the control held over the env step.
    Parameters from MACPO's cheetah model: geom starts at x = 10, gear 120, damping 0.2,
    armature 0.1 plus a box of density 1e-4 (0.2 x 4.6 x 2.6 m).
    """

    start_x: float = 10.0
    gear: float = 120.0
    damping: float = 0.2
    inertia: float = 0.1 + 1e-4 * 0.2 * 4.6 * 2.6
    x: float = 10.0
    velocity: float = 0.0

    def reset(self) -> None:
        self.x, self.velocity = self.start_x, 0.0

    def advance(self, time: float, timestep: float, substeps: int) -> None:
        """Move over one env step that starts at simulation `time`."""
        # each substep: v <- (m v + h F) / (m + h b) = keep * v + push; x <- x + h v
        m, h = self.inertia, timestep
        denominator = m + h * self.damping
        keep = m / denominator
        push = h * self.gear * bomb_control(time) / denominator
        v, x = self.velocity, self.x
        for _ in range(substeps):
            v = keep * v + push
            x += h * v
        self.velocity, self.x = v, x
