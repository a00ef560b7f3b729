"""Quaternion helpers on batched torch tensors, in MuJoCo's (w, x, y, z) order.

Isaac Gym stores quaternions as (x, y, z, w); every formula here is the same with the
scalar moved first. Observations follow Bi-DexHands' layout, so a quaternion is turned into
(x, y, z, w) with `to_xyzw` where it enters an observation.
"""

from __future__ import annotations

import math

import torch


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        (
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ),
        dim=-1,
    )


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    return torch.cat((q[..., :1], -q[..., 1:]), dim=-1)


def to_xyzw(q: torch.Tensor) -> torch.Tensor:
    """MuJoCo's (w, x, y, z) as Isaac Gym's (x, y, z, w), the order Bi-DexHands observes."""
    return torch.cat((q[..., 1:], q[..., :1]), dim=-1)


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4)."""
    w, xyz = q[..., :1], q[..., 1:]
    t = 2.0 * torch.linalg.cross(xyz, v, dim=-1)
    return v + w * t + torch.linalg.cross(xyz, t, dim=-1)


def quat_from_angle_axis(angle: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    half = 0.5 * angle.unsqueeze(-1)
    return torch.cat((torch.cos(half), torch.sin(half) * axis), dim=-1)


def random_tilt(uniform: torch.Tensor) -> torch.Tensor:
    """Bi-DexHands' goal and object rotations: about x by pi*u0, then about y by pi*u1 (u in [-1, 1])."""
    n = uniform.shape[0]
    x = uniform.new_tensor([1.0, 0.0, 0.0]).expand(n, 3)
    y = uniform.new_tensor([0.0, 1.0, 0.0]).expand(n, 3)
    return quat_mul(
        quat_from_angle_axis(uniform[:, 0] * math.pi, x), quat_from_angle_axis(uniform[:, 1] * math.pi, y)
    )


def rotation_distance(q_object: torch.Tensor, q_goal: torch.Tensor) -> torch.Tensor:
    """theta = 2 asin(min(|(q_object * conj(q_goal)).xyz|, 1)), the published rotation term."""
    diff = quat_mul(q_object, quat_conjugate(q_goal))
    return 2.0 * torch.asin(torch.clamp(torch.linalg.vector_norm(diff[..., 1:], dim=-1), max=1.0))


def euler_xyz(q: torch.Tensor) -> torch.Tensor:
    """Roll, pitch, yaw in [0, 2pi), as Isaac Gym's get_euler_xyz reports a hand base."""
    w, x, y, z = q.unbind(-1)
    roll = torch.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    pitch = torch.asin(torch.clamp(2.0 * (w * y - z * x), -1.0, 1.0))
    yaw = torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return torch.remainder(torch.stack((roll, pitch, yaw), dim=-1), 2.0 * math.pi)
