"""The cost definitions of the safe tasks, as plain functions of the robot's state.

They are kept apart from the simulator so that tests can check each definition on
states set by hand and the env can be checked against them on real trajectories.
Every cost is 1.0 in a step that violates the constraint and 0.0 otherwise.
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
    """The y of the corridor's centre line, which folds by 30 degrees at x = 20, 60 and 100."""
    t = CORRIDOR_SLOPE
    if x < 20.0:
        return x * t
    if x < 60.0:
        return -(x - 40.0) * t
    if x < 100.0:
        return (x - 80.0) * t
    return 20.0 * t


def corridor_wall_distances(x: float, y: float, wall_offset: float) -> tuple[float, float]:
    """Signed y-distances from the robot to the two walls (MACPO's y - centre(x) -+ W)."""
    offset = y - corridor_centre_y(x)
    return offset - wall_offset, offset + wall_offset


def is_unhealthy(qpos: np.ndarray, qvel: np.ndarray) -> bool:
    """An ant-like robot (free joint first) that fell: non-finite state, torso z out of range, or flipped."""
    if not (np.isfinite(qpos).all() and np.isfinite(qvel).all()):
        return True
    z = float(qpos[2])
    if not HEALTHY_Z_RANGE[0] <= z <= HEALTHY_Z_RANGE[1]:
        return True
    _, qx, qy, _ = (float(v) for v in qpos[3:7])
    uprightness = 1.0 - 2.0 * (qx * qx + qy * qy)  # z component of the torso's z axis
    return uprightness < FLIPPED_UPRIGHTNESS


def corridor_cost(qpos: np.ndarray, qvel: np.ndarray, wall_offset: float) -> float:
    """Within `CORRIDOR_MARGIN` of either wall, or fallen (MACPO's Ant corridor cost)."""
    near = any(abs(d) < CORRIDOR_MARGIN for d in corridor_wall_distances(qpos[0], qpos[1], wall_offset))
    return float(near or is_unhealthy(qpos, qvel))


def proximity_cost(robot_x: float, obstacle_x: float, radius: float) -> float:
    """Closer than `radius` to an obstacle along x."""
    return float(abs(obstacle_x - robot_x) < radius)


def bomb_control(t: float) -> float:
    """The control that drives MACPO's sliding bomb at simulation time `t`."""
    return 0.02 * math.sin(t / 3.0) ** 2 - 0.004


def hopper_obstacle_x(t: float) -> float:
    """MACPO's Hopper obstacle, moved kinematically: x = t + sin t + 3."""
    return t + math.sin(t) + 3.0
