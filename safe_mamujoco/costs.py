"""The cost definitions of the safe tasks, as plain functions of numbers.

They are kept apart from the simulator so that tests can check each definition on
values set by hand and the envs can be checked against them on real states. Every
cost is 1.0 in a step that violates the constraint and 0.0 otherwise. The MACPO
definitions follow its `ant.py` / `manyagent_ant.py` / `half_cheetah.py` (see
FIDELITY.md for file and line).
"""

from __future__ import annotations

import math

import numpy as np

CORRIDOR_SLOPE = math.tan(math.radians(30.0))
CORRIDOR_MARGIN = 1.8
HEALTHY_Z_RANGE = (0.2, 1.0)
FLIPPED_UPRIGHTNESS = -0.7


def velocity_cost(vx: float, vy: float, threshold: float, *, planar: bool = True) -> float:
    """Safety-Gymnasium's velocity constraint: speed sqrt(vx^2 + vy^2) (or vx alone) over `threshold`."""
    speed = math.hypot(vx, vy) if planar else vx
    return float(speed > threshold)


def corridor_centre_y(x: float) -> float:
    """The y of MACPO's corridor centre line, which folds by 30 degrees at x = 20, 60 and 100.

    The pieces are open intervals as upstream writes them, so x exactly 20 or 60 (and
    anything from 100 on) takes the last piece, 20 tan 30.
    """
    t = CORRIDOR_SLOPE
    if x < 20.0:
        return x * t
    if 20.0 < x < 60.0:
        return -(x - 40.0) * t
    if 60.0 < x < 100.0:
        return (x - 80.0) * t
    return 20.0 * t


def corridor_wall_distances(x: float, y: float, wall_offset: float) -> tuple[float, float]:
    """Signed y-distances from the robot to the two walls (MACPO's y - centre(x) -+ W)."""
    offset = y - corridor_centre_y(x)
    return offset - wall_offset, offset + wall_offset


def near_corridor_wall(x: float, y: float, wall_offset: float) -> bool:
    """Closer than `CORRIDOR_MARGIN` to either wall (MACPO's `obj_cost`)."""
    return any(abs(d) < CORRIDOR_MARGIN for d in corridor_wall_distances(x, y, wall_offset))


def uprightness(quat: np.ndarray) -> float:
    """The z component of the torso's z axis, from its (w, x, y, z) quaternion: -1 upside down."""
    return 1.0 - 2.0 * (float(quat[1]) ** 2 + float(quat[2]) ** 2)


def ant_fell(state: np.ndarray, torso_z: float, torso_quat: np.ndarray) -> bool:
    """MACPO's ant termination: non-finite state, torso z outside [0.2, 1], or flipped."""
    if not np.isfinite(state).all():
        return True
    if not HEALTHY_Z_RANGE[0] <= torso_z <= HEALTHY_Z_RANGE[1]:
        return True
    return uprightness(torso_quat) < FLIPPED_UPRIGHTNESS


def proximity_cost(robot_x: float, obstacle_x: float, radius: float) -> float:
    """Closer than `radius` to an obstacle along x."""
    return float(abs(obstacle_x - robot_x) < radius)


def bomb_control(t: float) -> float:
    """The control that drives MACPO's sliding bomb at simulation time `t`."""
    return 0.02 * math.sin(t / 3.0) ** 2 - 0.004


def hopper_obstacle_x(t: float) -> float:
    """MACPO's Hopper obstacle, moved kinematically: x = t + sin t + 3."""
    return t + math.sin(t) + 3.0
