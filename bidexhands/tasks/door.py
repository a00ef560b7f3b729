"""The four double-door tasks (Bi-DexHands' bidexhands/tasks/shadow_hand_door_{open,close}_
{inward,outward}.py with their bidexhands/cfg/ShadowHandDoor*.yaml).

Both hands hold the handles of a two-leaf door and open it (or close it). The door is upstream's
PartNet door (assets/mjcf/door/mobility.urdf), rebuilt from primitives to its meshes' extents
with the URDF's kinematics: leaves of 0.44 x 0.93 m on vertical hinges at y = +-0.42 m, each
opening 0 to pi/2 towards the door frame's -x. Inward tasks turn the whole door half a turn
about y (upstream's from_euler_zyx(0, 3.14159, 0)), so its leaves swing towards the hands and
must be pulled; Outward tasks keep it unturned, so the leaves swing away and are pushed.

Published reward, with f_R (f_L) the sum of hand0's (hand1's) five finger-point distances to
hand0's (hand1's) handle point and s = |y_R - y_L| the handles' separation along y:
  opening  r = 2 - f_R - f_L + 2 s          [f_R < 0.5 and f_L < 0.5]
  closing  r = 2 - f_R - f_L + (1 - 2 s)    [...]   (CloseOutward: 6 - f_R - f_L + ...)
An episode ends early when f_R or f_L reaches 1.5 (CloseOutward: 3); success is s > 0.5
(closing: s < 0.5) at some step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.scene import (
    HAND_FRICTION,
    OBJECT_BITS,
    HandMount,
    Scene,
    SceneBuilder,
    finger_point_index,
)
from bidexhands.tasks.base import HandState, Outcome, Published, Task
from bidexhands.tasks.throw_catch import VEL_SCALE, _catch_cfg, _euler_zyx

DOOR_POS = (0.0, 0.0, 0.7)
INWARD_TURN = _euler_zyx(0.0, 3.14159, 0.0)
# mobility.urdf joint_0 (base -> frame): rpy (pi/2, 0, -pi/2)
FRAME_QUAT = _euler_zyx(math.pi / 2, 0.0, -math.pi / 2)
# per leaf, in the frame's coordinates: hinge origin, hinge axis, and where its meshes' origin
# lies in the leaf's own frame (the URDF's visual/collision origin). Leaf 0 is joint_1/link_1,
# upstream's right door (hand0's); leaf 1 is joint_2/link_2 (hand1's). Both range over [0, pi/2].
HINGES = (
    ((-0.4265270657166128, 0.483292, 0.008461858680020029), (0.0, -1.0, 0.0)),
    ((0.42040686074842226, 0.483292, 0.0055998888476049835), (0.0, 1.0, 0.0)),
)
MESH_ORIGIN = (
    (0.4215270657166128, -0.483292, -0.008461858680020029),
    (-0.41540686074842226, -0.4832920000000003, -0.0055998888476049835),
)
HINGE_RANGE = (0.0, math.pi / 2)
# Extents (x, y, z ranges, metres, mesh coordinates) of upstream's door meshes; the handle
# meshes are loaded at scale 2 and are given here scaled.
FRAME_BARS = (  # original-1.obj, original-2.obj (link_0): the frame's bottom and top rails
    ((-0.8829, 0.8791), (-0.4461, -0.4417), (-0.0359, 0.0125)),
    ((-0.8830, 0.8789), (0.4789, 0.4833), (-0.0359, 0.0125)),
)
LEAVES = (  # original-12.obj (link_1), original-7.obj (link_2)
    ((-0.4425, -0.0020), (-0.4439, 0.4811), (-0.0073, 0.0103)),
    ((-0.0019, 0.4386), (-0.4439, 0.4811), (-0.0073, 0.0103)),
)
HANDLES = (  # per leaf: the handle on its +z face, then the one on its -z face
    (
        ((-0.0646, -0.0294), (-0.1926, 0.1067), (0.0207, 0.0912)),
        ((-0.0639, -0.0287), (-0.1918, 0.1075), (-0.0847, -0.0142)),
    ),
    (
        ((0.0209, 0.0561), (-0.1918, 0.1075), (0.0204, 0.0908)),
        ((0.0216, 0.0569), (-0.1926, 0.1067), (-0.0851, -0.0146)),
    ),
)
DOOR_DENSITY = 500.0  # the object asset density upstream loads the door with
DOOR_FRICTION = 0.1  # upstream sets every door shape's friction to 0.1
# PhysX combines two shapes' frictions by their average; MuJoCo takes the larger unless one geom
# has the higher priority, whose friction then holds. The door geoms take priority with the
# average against the hands' friction 1, so a hand-door contact has PhysX's friction.
DOOR_CONTACT_FRICTION = (DOOR_FRICTION + HAND_FRICTION) / 2
# Handle points the reward uses, in each leaf's frame: (+-0.39, -0.5, 0.04 s), s = +1 for
# Inward doors (upstream adds 0.04 along z) and -1 for Outward ones (-0.04).
HANDLE_POINTS = ((0.39, -0.5, 0.04), (-0.39, -0.5, 0.04))
NEAR_SUM, SUCCESS_SEPARATION = 0.5, 0.5
CLOSED_START, OPEN_START = 0.0, 1.57  # upstream's reset dof positions

DOOR_CFG = _catch_cfg(
    episode_length=250,
    reset_position_noise=0.0,
    reset_dof_pos_noise=0.0,
    dist_reward_scale=20.0,
    fall_distance=0.4,
    object_type="pot",  # as upstream's config names it; the task loads mjcf/door/mobility.urdf
    transition_scale=0.5,
    orientation_scale=0.5,
)


def _box(extent, origin=(0.0, 0.0, 0.0)) -> dict:
    """A box geom spanning `extent` (x, y, z ranges) shifted by `origin`."""
    return {
        "type": mujoco.mjtGeom.mjGEOM_BOX,
        "size": [(hi - lo) / 2 for lo, hi in extent],
        "pos": [(lo + hi) / 2 + o for (lo, hi), o in zip(extent, origin, strict=True)],
    }


def _handle(extent, face: float, origin) -> list[dict]:
    """A pull handle filling `extent`: a grip bar along y at the far side, two posts to the leaf."""
    (x0, x1), (y0, y1), (z0, z1) = extent
    r = (x1 - x0) / 2
    x = (x0 + x1) / 2 + origin[0]
    grip_z = (z1 - r if face > 0 else z0 + r) + origin[2]
    leaf_z = (z0 if face > 0 else z1) + origin[2]
    ends = (y0 + r + origin[1], y1 - r + origin[1])
    capsule = mujoco.mjtGeom.mjGEOM_CAPSULE
    parts = [{"type": capsule, "size": [r, 0, 0], "fromto": [x, ends[0], grip_z, x, ends[1], grip_z]}]
    for y in ends:
        parts.append({"type": capsule, "size": [0.6 * r, 0, 0], "fromto": [x, y, leaf_z, x, y, grip_z]})
    return parts


@dataclass
class DoorTask(Task):
    name: str
    mounts: tuple[HandMount, HandMount]
    inward: bool  # the door is turned half a turn, so its leaves swing towards the hands
    closing: bool  # start open (at OPEN_START) and close, rather than start closed and open
    base_reward: float = 2.0
    lose_sum: float = 1.5  # an episode ends when a hand's finger-distance sum reaches this
    cfg: Published = DOOR_CFG
    camera_azimuth: float = 150.0  # renders look at the door from behind the hands
    hand_point = "palm"  # a hand's observed position is its palm point (compute_full_state)

    @property
    def start_angle(self) -> float:
        return OPEN_START if self.closing else CLOSED_START

    @property
    def root_quat(self) -> tuple[float, float, float, float]:
        return INWARD_TURN if self.inward else (1.0, 0.0, 0.0, 0.0)

    def build(self, builder: SceneBuilder) -> None:
        spec = builder.spec
        root = spec.worldbody.add_body(name="door", pos=list(DOOR_POS), quat=list(self.root_quat))
        frame = root.add_body(name="door_frame", quat=list(FRAME_QUAT))
        wood, metal = [0.75, 0.8, 0.85, 1.0], [0.2, 0.2, 0.2, 1.0]
        common = {
            "contype": OBJECT_BITS,
            "conaffinity": OBJECT_BITS,
            "friction": [DOOR_CONTACT_FRICTION, 0.005, 0.0001],
            "priority": 1,
            "density": DOOR_DENSITY,
        }
        for i, extent in enumerate(FRAME_BARS):
            frame.add_geom(name=f"door_rail{i}", rgba=[0.4, 0.3, 0.2, 1.0], **_box(extent), **common)
        face = 1.0 if self.inward else -1.0
        for i, ((hinge, axis), origin) in enumerate(zip(HINGES, MESH_ORIGIN, strict=True)):
            leaf = frame.add_body(name=f"leaf{i}", pos=list(hinge))
            leaf.add_joint(
                name=f"hinge{i}",
                type=mujoco.mjtJoint.mjJNT_HINGE,
                axis=list(axis),
                range=list(HINGE_RANGE),
                limited=True,
            )
            # the leaves have no drive (drive mode NONE, so the DOF props' stiffness 5 and
            # damping 1 do nothing) and keep the asset's default angular damping
            builder.damp_like_physx(f"hinge{i}")
            leaf.add_geom(name=f"leaf{i}_panel", rgba=wood, **_box(LEAVES[i], origin), **common)
            for side, extent in zip((1.0, -1.0), HANDLES[i], strict=True):
                for k, part in enumerate(_handle(extent, side, origin)):
                    leaf.add_geom(
                        name=f"leaf{i}_handle{'+' if side > 0 else '-'}{k}", rgba=metal, **part, **common
                    )
            x, y, z = HANDLE_POINTS[i]
            leaf.add_site(name=f"handle{i}", pos=[x, y, face * z], size=[0.01, 0, 0])
            builder.add_sensor(
                f"handle{i}_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, mujoco.mjtObj.mjOBJ_SITE, f"handle{i}"
            )
            # the leaves' edges overlap the rails they hang between; PhysX never collides
            # adjacent links of an articulation, and MuJoCo's parent filter skips a parent
            # welded to the world, so the pair is excluded by name
            spec.add_exclude(bodyname1="door_frame", bodyname2=f"leaf{i}")
        builder.add_finger_points()

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        model = scene.model
        self._hinge_qpos = [int(model.jnt_qposadr[model.joint(f"hinge{i}").id]) for i in range(2)]
        self._hinge_dof = [int(model.jnt_dofadr[model.joint(f"hinge{i}").id]) for i in range(2)]
        self._handles = [scene.sensors[f"handle{i}_pos"] for i in range(2)]
        self._fingers = torch.as_tensor(finger_point_index(scene), device=device)  # (2 hands, 5 fingers, 3)
        # the door's root is welded: its pose is constant and its velocities zero; the
        # quaternion is observed as (x, y, z, w), Isaac Gym's order
        w, x, y, z = self.root_quat
        pose = torch.tensor((*DOOR_POS, x, y, z, w), dtype=torch.float32, device=device)
        self._root_block = torch.cat((pose, torch.zeros(6, device=device))).expand(num_envs, 13)

    @property
    def shared_obs_dim(self) -> int:
        return 13 + 3 + 3

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        for adr in self._hinge_qpos:
            qpos[:, adr] = self.start_angle

    def handle_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 3): hand0's handle point (upstream's right handle), then hand1's."""
        return torch.stack([r.sensordata[:, sl] for sl in self._handles], dim=1)

    def finger_pos(self, r: Readings) -> torch.Tensor:
        """(N, 2, 5, 3): each hand's five finger points."""
        return r.sensordata[:, self._fingers]

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """door root pose 7 | linvel 3 | angvel x 0.2 | hand1's (left) handle 3 | hand0's (right) handle 3."""
        handles = self.handle_pos(r)
        root = self._root_block[: r.qpos.shape[0]].clone()
        root[:, 10:13] *= VEL_SCALE
        return torch.cat((root, handles[:, 1], handles[:, 0]), dim=1)

    def finger_sums(self, r: Readings) -> torch.Tensor:
        """(N, 2): f_R (hand0's fingers to its handle) and f_L (hand1's)."""
        handles = self.handle_pos(r)
        return torch.linalg.vector_norm(self.finger_pos(r) - handles.unsqueeze(2), dim=-1).sum(dim=-1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        handles = self.handle_pos(r)
        f = self.finger_sums(r)
        separation = (handles[:, 0, 1] - handles[:, 1, 1]).abs()
        near = (f < NEAR_SUM).all(dim=1).float()
        progress = (1.0 - 2.0 * separation) if self.closing else 2.0 * separation
        reward = self.base_reward - f.sum(dim=1) + progress * near
        terminated = (f >= self.lose_sum).any(dim=1)
        success = separation < SUCCESS_SEPARATION if self.closing else separation > SUCCESS_SEPARATION
        return Outcome(reward=reward, terminated=terminated, success=success)


def _facing_door(x: float, y: float) -> tuple[HandMount, HandMount]:
    """Hands at (x, +-y, 0.6) pointing at the door, palms facing each other (upstream's poses)."""
    return (
        HandMount((x, y, 0.6), _euler_zyx(3.14159, 1.57, 1.57), movable=True),
        HandMount((x, -y, 0.6), _euler_zyx(3.14159, -1.57, 1.57), movable=True),
    )


def shadow_hand_door_open_inward() -> DoorTask:
    """A closed door that opens towards the hands: they pull it by its handles."""
    return DoorTask("ShadowHandDoorOpenInward", _facing_door(0.55, 0.2), inward=True, closing=False)


def shadow_hand_door_open_outward() -> DoorTask:
    """A closed door that opens away from the hands: they push it."""
    return DoorTask("ShadowHandDoorOpenOutward", _facing_door(0.55, 0.2), inward=False, closing=False)


def shadow_hand_door_close_inward() -> DoorTask:
    """The door starts open towards the hands (1.57 rad); they stand back and push it shut."""
    return DoorTask("ShadowHandDoorCloseInward", _facing_door(0.9, 0.5), inward=True, closing=True)


def shadow_hand_door_close_outward() -> DoorTask:
    """The door starts open away from the hands (1.57 rad); they reach in and pull it shut."""
    return DoorTask(
        "ShadowHandDoorCloseOutward",
        _facing_door(0.55, 0.2),
        inward=False,
        closing=True,
        base_reward=6.0,
        lose_sum=3.0,
    )
