"""What ShadowHandSwitch, ShadowHandPen and ShadowHandScissors share (Bi-DexHands'
bidexhands/tasks/shadow_hand_{switch,pen,scissors}.py with their bidexhands/cfg/ShadowHand*.yaml).

All three copy one template: both hands above a table, palms down, fingers towards -x (at
(0.55, +-0.2, 0.8)), a PartNet object of two links joined by one hinge or slide, two points on
its links that the hands must reach (hand0, upstream's right hand, the first), and a shared
observation block of the object's root pose and velocity and those two points. The rewards
differ per task; each measures f_R (f_L), the sum of hand0's (hand1's) five finger-point
distances to its point.

Upstream's objects are PartNet meshes (not shipped); we rebuild each link from boxes and
capsules to its meshes' extents, with the URDF's joint origin, axis and range, and give each
moving link the mass, centre of mass and inertia Isaac Gym derives from it: density 500 times
the convex hulls of its collision meshes (PhysX collides a dynamic mesh by its convex hull).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import to_xyzw
from bidexhands.scene import HandMount, Scene, SceneBuilder, finger_point_index
from bidexhands.tasks.base import Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg, _euler_zyx

# shadow_hand_{switch,pen,scissors}.py, _create_envs: both hands from_euler_zyx(3.14159, 0, 1.57)
HAND_TURN = _euler_zyx(3.14159, 0.0, 1.57)
HAND_MOUNTS = (
    HandMount((0.55, 0.2, 0.8), HAND_TURN, movable=True),
    HandMount((0.55, -0.2, 0.8), HAND_TURN, movable=True),
)
# Every one of the three URDFs fixes link_1 to its empty root link "base" by joint_1 with rpy
# (pi/2, 0, -pi/2) (URDF rpy: R = Rz(-pi/2) Ry(0) Rx(pi/2), the same product as from_euler_zyx).
URDF_BASE_TURN = _euler_zyx(math.pi / 2, 0.0, -math.pi / 2)
OBJECT_DENSITY = 500.0  # object_asset_options.density in all three tasks


def articulated_cfg(episode_length: int) -> Published:
    """C/ShadowHand{Switch,Pen,Scissors}.yaml's env block; they differ only in episodeLength."""
    return _catch_cfg(
        episode_length=episode_length,
        reset_position_noise=0.0,
        reset_dof_pos_noise=0.0,
        dist_reward_scale=20.0,
        fall_distance=0.4,
        object_type="pot",  # as the configs name it; each task loads its own mobility.urdf
        transition_scale=0.5,
        orientation_scale=0.1,
    )


@dataclass(frozen=True)
class Inertial:
    """A link's mass (kg), centre of mass and inertia about it (ixx, iyy, izz, ixy, ixz, iyz,
    kg m^2), in the link's URDF frame."""

    mass: float
    com: tuple[float, float, float]
    inertia: tuple[float, float, float, float, float, float]

    def apply(self, body: mujoco.MjsBody) -> None:
        body.mass, body.ipos, body.fullinertia = self.mass, list(self.com), list(self.inertia)
        body.explicitinertial = True


def box(extent, offset=(0.0, 0.0, 0.0)) -> dict:
    """An axis-aligned box geom spanning `extent` ((lo, hi) per axis), shifted by `offset`."""
    return {
        "type": mujoco.mjtGeom.mjGEOM_BOX,
        "size": [(hi - lo) / 2 for lo, hi in extent],
        "pos": [(lo + hi) / 2 + o for (lo, hi), o in zip(extent, offset, strict=True)],
    }


def bar(p0, p1, side, half_side: float, half_third: float) -> dict:
    """A box from p0 to p1 (its length), `half_side` thick along the unit vector `side` (normal
    to the bar) and `half_third` along the third direction."""
    p0, p1, side = (np.asarray(v, dtype=np.float64) for v in (p0, p1, side))
    along = (p1 - p0) / np.linalg.norm(p1 - p0)
    third = np.cross(along, side)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack((along, side, third)).flatten())
    return {
        "type": mujoco.mjtGeom.mjGEOM_BOX,
        "size": [float(np.linalg.norm(p1 - p0)) / 2, half_side, half_third],
        "pos": ((p0 + p1) / 2).tolist(),
        "quat": quat.tolist(),
    }


def add_point(builder: SceneBuilder, body: str, name: str, pos) -> None:
    """A site at `pos` in `body`'s frame and a world-position sensor of it."""
    builder.spec.body(body).add_site(name=name, pos=list(pos), size=[0.006, 0, 0], group=4)
    builder.add_sensor(name, mujoco.mjtSensor.mjSENS_FRAMEPOS, mujoco.mjtObj.mjOBJ_SITE, name)


def sensor_index(scene: Scene, names) -> list[int]:
    return [i for n in names for i in range(scene.sensors[n].start, scene.sensors[n].stop)]


@dataclass
class ArticulatedTask(Task):
    """The shared template: hands, table, finger points, the two reward points and the shared
    block. Subclasses build their object and define reset and evaluate."""

    name: str
    cfg: Published
    table_size: tuple[float, float, float]  # create_box dims, standing on the ground at the origin
    mounts: tuple[HandMount, HandMount] = HAND_MOUNTS
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)
    camera_azimuth: float = 150.0  # renders look at the object from behind the hands

    @abc.abstractmethod
    def build_object(self, builder: SceneBuilder) -> None:
        """Add the object, with sites "right_point" (hand0's) and "left_point" (hand1's)."""

    @abc.abstractmethod
    def root_block(self, r: Readings) -> torch.Tensor:
        """(N, 13): the observed root's pose (quaternion x, y, z, w), linvel, angvel x 0.2."""

    def build(self, builder: SceneBuilder) -> None:
        # upstream's table is a free box of default asset options resting on the ground; ours is
        # fixed (FIDELITY: its hundreds of kilograms never move under the hands' forces)
        x, y, z = self.table_size
        builder.add_table([x / 2, y / 2, z / 2], [0.0, 0.0, z / 2])
        self.build_object(builder)
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        self._fingers = torch.as_tensor(finger_point_index(scene), device=device)  # (2 hands, 5 fingers, 3)
        self._points = torch.tensor(
            [sensor_index(scene, [name]) for name in ("right_point", "left_point")], device=device
        )  # (2, 3)
        self.device = device

    @property
    def shared_obs_dim(self) -> int:
        return 13 + 3 + 3

    def points(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3): the right point (hand0's), then the left one (hand1's)."""
        return r.sensordata[:, self._points]

    def finger_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 5, 3): each hand's five finger points (distal body + R (0, 0, 0.02))."""
        return r.sensordata[:, self._fingers]

    def finger_sums(self, r: Readings) -> torch.Tensor:
        """(N, 2): f_R (hand0's fingers to the right point) and f_L (hand1's to the left one)."""
        gap = self.finger_pos(r) - self.points(r).unsqueeze(2)
        return torch.linalg.vector_norm(gap, dim=-1).sum(dim=-1)

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """root pose 7 | linvel 3 | angvel x 0.2 3 | right point 3 | left point 3."""
        return torch.cat((self.root_block(r), self.points(r).flatten(1)), dim=1)


@dataclass
class FreeArticulatedTask(ArticulatedTask):
    """An object lying free on the table (the pen, the scissors): its root link "base" is a free
    body turned by `start_quat`, carrying link_1 (turned by URDF_BASE_TURN), which carries
    link_0 on the object's one joint."""

    start_pos: tuple[float, float, float] = (0.0, 0.0, 0.6)
    start_quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    root_name: ClassVar[str] = "object"

    def add_root(self, builder: SceneBuilder) -> mujoco.MjsBody:
        """The free root link (massless, as upstream's empty "base") and link_1 welded to it."""
        name = self.root_name
        root = builder.spec.worldbody.add_body(
            name=name, pos=list(self.start_pos), quat=list(self.start_quat)
        )
        root.add_freejoint(name=f"{name}_joint")
        # a default asset's rigid-body damping (angular 0.5 /s, no linear damping)
        builder.damp_like_physx(f"{name}_joint")
        # upstream's root state: the root link's frame pose and velocity
        frame = mujoco.mjtObj.mjOBJ_XBODY
        builder.add_sensor(f"{name}_linvel", mujoco.mjtSensor.mjSENS_FRAMELINVEL, frame, name)
        builder.add_sensor(f"{name}_angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL, frame, name)
        return root.add_body(name=f"{name}_link1", quat=list(URDF_BASE_TURN))

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        super().bind(scene, num_envs, device)
        self._root = scene.free_joints[self.root_name]
        self._root_vel = sensor_index(scene, [f"{self.root_name}_linvel", f"{self.root_name}_angvel"])
        self._start = torch.tensor((*self.start_pos, *self.start_quat), device=device)

    def place_root(self, qpos: torch.Tensor) -> None:
        """The object back at its start pose (resetPositionNoise 0; the rotation is never drawn)."""
        qpos[:, self._root : self._root + 7] = self._start.to(qpos.dtype)

    def root_block(self, r: Readings) -> torch.Tensor:
        pose = r.qpos[:, self._root : self._root + 7]
        vel = r.sensordata[:, self._root_vel]
        return torch.cat((pose[:, :3], to_xyzw(pose[:, 3:]), vel[:, :3], VEL_SCALE * vel[:, 3:]), dim=1)
