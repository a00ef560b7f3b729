"""What ShadowHandBottleCap, ShadowHandSwingCup and ShadowHandKettle share (Bi-DexHands'
bidexhands/tasks/shadow_hand_{bottle_cap,swing_cup,kettle}.py): their config block, the PartNet
mesh frame their objects are built in, the finger points their rewards measure, and the
observed root block of a free PartNet object.

The PartNet objects (assets/mjcf/{bottle_cap,cup,kettle,bucket/100454}/mobility.urdf) are not
shipped; each task rebuilds its object from primitives to the meshes' extents (vertices x the
URDF's mesh scale) with the URDF's joints. In all four URDFs the meshes hang from link_1, fixed
to the empty root link `base` by joint_1 with rpy (pi/2, 0, -pi/2): a mesh point (x, y, z) is
the point (-z, -x, y) of the object's root frame, whose z is the meshes' y (up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_apply, to_xyzw
from bidexhands.scene import (
    HAND_FRICTION,
    OBJECT_BITS,
    HandMount,
    Scene,
    SceneBuilder,
    finger_point_index,
)
from bidexhands.tasks.base import Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg

# PartNet objects: Isaac Gym object asset density (object_asset_options.density, every task here)
OBJECT_DENSITY = 500.0


def container_cfg(**changes) -> Published:
    """The env block shared by the moving-base PartNet tasks (C/ShadowHand{BottleCap,SwingCup,
    Kettle}.yaml lines 19-43): no noise, distRewardScale 20, rotRewardScale 1, rotEps 0.1,
    actionPenaltyScale -0.0002, reachGoalBonus 250, fallDistance 0.4, fallPenalty 0,
    successTolerance 0.1, maxConsecutiveSuccesses 0, objectType "pot"; `changes` per task."""
    values = {
        "reset_position_noise": 0.0,
        "reset_dof_pos_noise": 0.0,
        "dist_reward_scale": 20.0,
        "fall_distance": 0.4,
        "object_type": "pot",  # as the configs name it; each task loads its own mobility.urdf
        **changes,
    }
    return _catch_cfg(**values)


def mesh_point(p: Sequence[float]) -> tuple[float, float, float]:
    """A point of link_1's meshes in the object's root frame (joint_1: rpy (pi/2, 0, -pi/2))."""
    x, y, z = (float(v) for v in p)
    return (-z, -x, y)


def geom_bits(**geom) -> dict:
    """An object geom: collides with hands, tables and other objects (as add_free_object's)."""
    return {"contype": OBJECT_BITS, "conaffinity": OBJECT_BITS, "condim": 4, **geom}


def vertical_cylinder(radius: float, bottom: float, top: float, centre=(0.0, 0.0), **geom) -> dict:
    """A cylinder along the root frame's z, from z = bottom to z = top, axis through `centre` (x, y)."""
    return {
        "type": mujoco.mjtGeom.mjGEOM_CYLINDER,
        "size": [radius, (top - bottom) / 2, 0.0],
        "pos": [centre[0], centre[1], (top + bottom) / 2],
        **geom,
    }


def capsule(start, end, radius: float, **geom) -> dict:
    """A capsule from `start` to `end`."""
    return {
        "type": mujoco.mjtGeom.mjGEOM_CAPSULE,
        "fromto": [*start, *end],
        "size": [radius, 0.0, 0.0],
        **geom,
    }


def strap(start, end, half_thickness: float, half_width: float, **geom) -> dict:
    """A box from `start` to `end`, both in one y = const plane, `half_width` along y (MuJoCo's
    box `fromto` would make the section square)."""
    (x0, y0, z0), (x1, y1, z1) = start, end
    if abs(y1 - y0) > 1e-12:
        raise ValueError("a strap runs in a plane of constant y")
    angle = math.atan2(x1 - x0, z1 - z0)  # about y, taking the box's z onto the segment
    return {
        "type": mujoco.mjtGeom.mjGEOM_BOX,
        "size": [half_thickness, half_width, math.hypot(x1 - x0, z1 - z0) / 2],
        "pos": [(x0 + x1) / 2, y0, (z0 + z1) / 2],
        "quat": [math.cos(angle / 2), 0.0, math.sin(angle / 2), 0.0],
        **geom,
    }


def physx_friction(friction: float) -> list[float]:
    """Friction of an object geom that takes contact priority: PhysX averages a contact's two
    shape frictions, MuJoCo takes the higher-priority geom's, so the geom carries the average
    with the hands' (and the tables') friction 1."""
    return [(friction + HAND_FRICTION) / 2, 0.005, 0.0001]


def add_root_velocity(builder: SceneBuilder, body: str) -> None:
    """Linear velocity of `body`'s frame origin (the actor root: PartNet's empty `base` link,
    whose centre of mass is its origin) and its angular velocity."""
    frame = mujoco.mjtObj.mjOBJ_XBODY
    builder.add_sensor(f"{body}_root_linvel", mujoco.mjtSensor.mjSENS_FRAMELINVEL, frame, body)
    builder.add_sensor(f"{body}_root_angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL, frame, body)


def sensor_index(scene: Scene, names: Sequence[str], device: torch.device) -> torch.Tensor:
    """The sensordata columns of `names`, concatenated."""
    return torch.tensor(
        [i for name in names for i in range(scene.sensors[name].start, scene.sensors[name].stop)],
        device=device,
    )


@dataclass
class ContainerTask(Task):
    """A moving-base task around one free PartNet object named `object0` (its root frame being
    upstream's actor root); subclasses build it and write the reward."""

    name: str
    cfg: Published
    mounts: tuple[HandMount, HandMount]
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        self._adr = [scene.free_joints["object0"]]  # a list, as the other tasks' (tests' place())
        self._root_vel = sensor_index(scene, ["object0_root_linvel", "object0_root_angvel"], device)
        self._fingers = torch.as_tensor(finger_point_index(scene), device=device)  # (2 hands, 5 fingers, 3)

    def free_pose(self, r: Readings, adr: int) -> tuple[torch.Tensor, torch.Tensor]:
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def object_pose(self, r: Readings, i: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Root position and (w, x, y, z) quaternion of the object."""
        return self.free_pose(r, self._adr[0])

    def point(self, r: Readings, offset: Sequence[float], adr: int | None = None) -> torch.Tensor:
        """(N, 3): root + R_root offset (upstream's quat_apply points)."""
        pos, quat = self.free_pose(r, self._adr[0] if adr is None else adr)
        return pos + quat_apply(quat, pos.new_tensor(offset).expand_as(pos))

    def root_block(self, r: Readings) -> torch.Tensor:
        """pose 7 (quaternion x, y, z, w) | linvel 3 | angvel x 0.2 3 of the object's root."""
        pos, quat = self.object_pose(r)
        vel = r.sensordata[:, self._root_vel]
        return torch.cat((pos, to_xyzw(quat), vel[:, :3], VEL_SCALE * vel[:, 3:]), dim=1)

    def finger_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 5, 3): each hand's five finger points."""
        return r.sensordata[:, self._fingers]

    def finger_sums(self, r: Readings, targets: torch.Tensor) -> torch.Tensor:
        """(N, 2): per hand, the summed distance of its five finger points to its target (N, 2, 3)."""
        return torch.linalg.vector_norm(self.finger_pos(r) - targets.unsqueeze(2), dim=-1).sum(dim=-1)

    def place_free(self, qpos: torch.Tensor, adr: int, pos, quat) -> None:
        qpos[:, adr : adr + 3] = qpos.new_tensor(pos)
        qpos[:, adr + 3 : adr + 7] = qpos.new_tensor(quat)


def geom_volume(geom: dict) -> float:
    """Volume of a box, cylinder or capsule geom dict (as built here)."""
    kind, size = geom["type"], geom["size"]
    if "fromto" in geom:  # capsules
        a, b = np.asarray(geom["fromto"][:3]), np.asarray(geom["fromto"][3:])
        return math.pi * size[0] ** 2 * float(np.linalg.norm(b - a)) + 4 / 3 * math.pi * size[0] ** 3
    if kind == mujoco.mjtGeom.mjGEOM_BOX:
        return 8 * size[0] * size[1] * size[2]
    if kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return math.pi * size[0] ** 2 * 2 * size[1]
    raise ValueError(f"no volume for geom type {kind}")


def at_hull_mass(geoms: list[dict], hull_volume: float) -> list[dict]:
    """`geoms` at the density that gives them together the mass Isaac Gym gives upstream's
    meshes, OBJECT_DENSITY x `hull_volume` (PhysX sums density x volume over every shape, so
    overlapping shapes count twice, here as there)."""
    density = OBJECT_DENSITY * hull_volume / sum(geom_volume(g) for g in geoms)
    return [{**g, "density": density} for g in geoms]
