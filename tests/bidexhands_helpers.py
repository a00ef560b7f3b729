"""Small numpy geometry and state-setting helpers shared by the Bi-DexHands task tests.

Quaternions are MuJoCo's (w, x, y, z) unless a name says otherwise; expected values in the
tests are computed with these, not with the package's own rotation code.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import torch


def qmul(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def qconj(q):
    return np.array([q[0], -q[1], -q[2], -q[3]])


def qrot(q, v):
    return qmul(qmul(q, np.array([0.0, *v])), qconj(q))[1:]


def axis_angle(axis, angle):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return np.array([math.cos(angle / 2), *(math.sin(angle / 2) * axis)])


def euler_zyx(roll, pitch, yaw):
    """Isaac Gym's Quat.from_euler_zyx: R = Rz(yaw) Ry(pitch) Rx(roll) (also a URDF's rpy)."""
    return qmul(qmul(axis_angle((0, 0, 1), yaw), axis_angle((0, 1, 0), pitch)), axis_angle((1, 0, 0), roll))


def xyzw(q):
    """A (w, x, y, z) quaternion (or rows of them) in Isaac Gym's (x, y, z, w) order."""
    return np.asarray(q)[..., [1, 2, 3, 0]]


def same_rotation(a, b, atol: float = 1e-6) -> bool:
    return abs(abs(float(np.dot(a, b))) - 1.0) < atol


def rot_dist(q, g) -> float:
    """Upstream's rotation distance 2 asin(min(|(q conj(g))_xyz|, 1))."""
    return 2.0 * math.asin(min(1.0, float(np.linalg.norm(qmul(q, qconj(g))[1:]))))


def cfg_values(c) -> tuple:
    """A task's `Published` cfg in the order of the env blocks of upstream's
    cfg/ShadowHand<Task>.yaml: episodeLength, resetPositionNoise, resetDofPosRandomInterval,
    distRewardScale, rotRewardScale, rotEps, actionPenaltyScale, reachGoalBonus, fallDistance,
    fallPenalty, successTolerance, maxConsecutiveSuccesses, transition_scale, orientation_scale,
    objectType."""
    return (
        c.episode_length,
        c.reset_position_noise,
        c.reset_dof_pos_noise,
        c.dist_reward_scale,
        c.rot_reward_scale,
        c.rot_eps,
        c.action_penalty_scale,
        c.reach_goal_bonus,
        c.fall_distance,
        c.fall_penalty,
        c.success_tolerance,
        c.max_consecutive_successes,
        c.transition_scale,
        c.orientation_scale,
        c.object_type,
    )


def set_qpos(env, world: int, edits: dict[int, float]) -> None:
    """Write qpos entries of one copy (zero velocity) and recompute its sensors."""
    r = env.physics.read()
    qpos = r.qpos[world : world + 1].double().clone()
    for adr, value in edits.items():
        qpos[0, adr] = value
    ctrl = torch.zeros(1, env.scene.model.nu)
    env.physics.set_state(torch.tensor([world]), qpos, torch.zeros(1, env.scene.model.nv), ctrl)


def place(env, world: int, index: int, pos, quat=(1.0, 0.0, 0.0, 0.0)) -> None:
    """Put the task's free object `index` at a pose in one copy."""
    adr = env.task._adr[index]
    set_qpos(env, world, {adr + k: float(v) for k, v in enumerate((*pos, *quat))})


def mjdata(env, world: int = 0) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """A float64 MjData holding one copy's state, forwarded."""
    model = env.scene.model
    data = mujoco.MjData(model)
    qpos, qvel = env.physics.world_state(world)
    data.qpos[:], data.qvel[:] = qpos, qvel
    mujoco.mj_forward(model, data)
    return model, data


def upstream_finger_points(model, data) -> np.ndarray:
    """(2 hands, 5 fingers, 3): upstream's finger points, rigid bodies 7, 11, 15, 20, 25 (+ 26 for
    hand1), the distal links, + R (0, 0, 0.02), from a forwarded MjData."""
    points = np.zeros((2, 5, 3))
    for h, prefix in enumerate(("hand0_", "hand1_")):
        for f, name in enumerate(("ffdistal", "mfdistal", "rfdistal", "lfdistal", "thdistal")):
            b = model.body(f"{prefix}robot0:{name}").id
            points[h, f] = data.xpos[b] + data.xmat[b].reshape(3, 3) @ np.array([0.0, 0.0, 0.02])
    return points


def contact_frictions(model, data, first: str, second: str) -> set[float]:
    """Sliding frictions of the contacts between geoms whose names start with `first` and `second`."""
    found = set()
    for contact in data.contact[: data.ncon]:
        names = {model.geom(contact.geom1).name, model.geom(contact.geom2).name}
        if any(n.startswith(first) for n in names) and any(n.startswith(second) for n in names):
            found.add(round(float(contact.friction[0]), 6))
    return found


def move_base(model, data, prefix: str, offset) -> None:
    """Shift a moving hand's base by `offset` in a forwarded MjData."""
    adr = model.jnt_qposadr[model.joint(f"{prefix}base").id]
    data.qpos[adr : adr + 3] += np.asarray(offset, dtype=np.float64)
    mujoco.mj_forward(model, data)
