"""Scenes for the bimanual tasks, built with `mujoco.MjSpec`: two Shadow Hands, objects, goals.

A task adds its objects to a `SceneBuilder` and compiles it into a `Scene`, which keeps the
model together with the index arrays the torch task logic reads state through (joint,
actuator and sensor addresses), so that no task code looks a name up at step time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import mujoco
import numpy as np

from bidexhands.assets import FINGERTIP_BODIES, FINGERTIP_SITES, load_hand_spec
from bidexhands.control import (
    HAND_DAMPING,
    OBJECT_ANGULAR_DAMPING,
    OBJECT_LINEAR_DAMPING,
    damping_rate,
)

HAND_PREFIXES = ("hand0_", "hand1_")
# Contact bits: hand geoms collide with objects but not with each other (contype 1,
# conaffinity 0, from the model); objects use both bits; tables (contype 2, conaffinity 3)
# touch objects and hands, as upstream's table shares the hands' collision group and filter 0.
OBJECT_BITS = 3
STATIC_BITS = 2
# Sliding friction of every hand geom (shared.xml, robot0:asset_class); Isaac Gym's default
# shape friction is the same 1, and PhysX averages the two frictions of a contact.
HAND_FRICTION = 1.0
# The body upstream pushes a moving hand by (rigid body 1 of the hand asset).
FORCE_BODY = "robot0:forearm"
# Upstream's finger points, which the door, block, PartNet-object and container rewards measure:
# each distal body's origin + 2 cm along its z (rigid bodies 7, 11, 15, 20, 25, + 26 for hand1).
FINGER_BODIES = ("ffdistal", "mfdistal", "rfdistal", "lfdistal", "thdistal")
FINGER_OFFSET = (0.0, 0.0, 0.02)


@dataclass(frozen=True)
class HandMount:
    """Where a hand's base (the model's "hand mount" body) stands; `quat` is MuJoCo's wxyz."""

    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    movable: bool = False  # a free, damped, force-driven hand (see bidexhands.control)
    reach: float = 0.0  # unused: kept for task code written for the old position-servo bases


def yaw_quat(angle: float) -> tuple[float, float, float, float]:
    return (float(np.cos(angle / 2)), 0.0, 0.0, float(np.sin(angle / 2)))


@dataclass
class HandIndex:
    """Addresses of one hand in the compiled model."""

    qpos: np.ndarray  # (24,) finger and wrist joints
    dof: np.ndarray  # (24,)
    joint_low: np.ndarray
    joint_high: np.ndarray
    actuators: np.ndarray  # (20,) joint position servos
    ctrl_low: np.ndarray
    ctrl_high: np.ndarray
    base_qpos: np.ndarray  # (7,) free-joint position and quaternion, or empty for a fixed base
    base_dof: np.ndarray  # (6,) or empty
    force_body: int  # body the base force and torque act on (the forearm)
    mount_pos: np.ndarray
    mount_quat: np.ndarray


@dataclass
class Scene:
    model: mujoco.MjModel
    hands: tuple[HandIndex, HandIndex]
    sensors: dict[str, slice]
    free_joints: dict[str, int]  # object name -> qpos address of its free joint
    mocap: dict[str, int]  # goal marker name -> mocap index
    substeps: int

    @property
    def control_dt(self) -> float:
        return float(self.model.opt.timestep) * self.substeps


@dataclass
class SceneBuilder:
    """Two hands placed by `mounts`; tasks add objects, goal markers and sensors, then compile."""

    mounts: tuple[HandMount, HandMount]
    substeps: int = 2
    control_dt: float = 1.0 / 60.0
    spec: mujoco.MjSpec = field(init=False)
    _physx_damping: dict[str, tuple[float, float]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        spec = mujoco.MjSpec()
        spec.modelname = "bidexhands"
        spec.compiler.degree = False  # joint ranges in radians, like the hand model
        spec.option.timestep = self.control_dt / self.substeps
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
        spec.option.iterations = 20
        spec.option.ls_iterations = 10
        spec.memory = 1 << 20  # arena bytes per world (about 150 kB used); the model asks nstack=600000
        spec.visual.global_.offwidth = 640
        spec.visual.global_.offheight = 480
        spec.worldbody.add_light(
            pos=[0, -0.5, 2.5], dir=[0, 0, -1], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
        )
        spec.worldbody.add_geom(
            name="floor",
            type=mujoco.mjtGeom.mjGEOM_PLANE,
            size=[2, 2, 0.05],
            rgba=[0.25, 0.3, 0.35, 1],
            contype=0,
            conaffinity=0,
        )
        self.spec = spec
        for prefix, mount in zip(HAND_PREFIXES, self.mounts, strict=True):
            self._add_hand(prefix, mount)

    def _add_hand(self, prefix: str, mount: HandMount) -> None:
        frame = self.spec.worldbody.add_frame(pos=list(mount.pos), quat=list(mount.quat))
        hand = load_hand_spec()
        if not mount.movable:
            frame.attach_body(hand.body("robot0:hand mount"), prefix, "")
            return
        # a free joint at the hand's centre of mass along its principal axes, so that per-dof
        # damping proportional to mass and principal inertia damps the whole hand as PhysX does
        com, axes, _, _ = hand_inertia()
        base = frame.add_body(name=f"{prefix}base", pos=list(com), quat=list(_mat2quat(axes)))
        base.mass, base.inertia, base.gravcomp = 1e-6, [1e-9] * 3, 1.0
        base.add_freejoint(name=f"{prefix}base")
        inner = base.add_frame(pos=list(-axes.T @ com), quat=list(_mat2quat(axes.T)))
        inner.attach_body(hand.body("robot0:hand mount"), prefix, "")
        self.damp_like_physx(f"{prefix}base", linear=HAND_DAMPING, angular=HAND_DAMPING)

    def damp_like_physx(
        self, joint: str, *, linear: float = OBJECT_LINEAR_DAMPING, angular: float = OBJECT_ANGULAR_DAMPING
    ) -> None:
        """Give `joint` PhysX's rigid-body velocity damping (rates c in 1/s: each substep
        v <- (1 - c h) v): per dof, `damping_rate(c)` times the dof's own inertia (the joint-space
        inertia diagonal at the reference pose), so the velocity decays at PhysX's rate whatever
        the body's mass. Translational dofs take `linear`, rotational ones `angular`."""
        self._physx_damping[joint] = (linear, angular)

    def add_free_object(self, name: str, *, pos, geoms: list[dict]) -> mujoco.MjsBody:
        """A free body made of `geoms` (MjSpec geom keyword arguments), colliding with the hands,
        damped as an Isaac Gym asset with default options."""
        body = self.spec.worldbody.add_body(name=name, pos=list(pos))
        body.add_freejoint(name=f"{name}_joint")
        for i, kwargs in enumerate(geoms):
            body.add_geom(
                name=f"{name}_geom{i}", contype=OBJECT_BITS, conaffinity=OBJECT_BITS, condim=4, **kwargs
            )
        self.damp_like_physx(f"{name}_joint")
        self._object_sensors(name)
        return body

    def add_goal_marker(self, name: str, *, pos, geoms: list[dict]) -> None:
        """A translucent mocap body showing a goal in renders; it takes no part in physics."""
        body = self.spec.worldbody.add_body(name=name, pos=list(pos), mocap=True)
        for kwargs in geoms:
            body.add_geom(contype=0, conaffinity=0, group=2, **kwargs)

    def add_table(self, half_size, centre, **geom) -> None:
        """A fixed box table (upstream's create_box tables) that objects and hands collide with;
        `geom`: further MjSpec geom settings (friction, priority, rgba)."""
        geom.setdefault("rgba", [0.55, 0.45, 0.35, 1.0])
        self.spec.worldbody.add_geom(
            name="table",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=list(half_size),
            pos=list(centre),
            contype=STATIC_BITS,
            conaffinity=OBJECT_BITS,
            **geom,
        )

    def add_finger_points(self) -> None:
        """Sites and position sensors at both hands' finger points (FINGER_BODIES + FINGER_OFFSET),
        read back with `finger_point_index`."""
        for prefix in HAND_PREFIXES:
            for finger in FINGER_BODIES:
                site = f"{prefix}finger_{finger}"
                self.spec.body(f"{prefix}robot0:{finger}").add_site(
                    name=site, pos=list(FINGER_OFFSET), size=[0.004, 0, 0], group=4
                )
                self.add_sensor(site, mujoco.mjtSensor.mjSENS_FRAMEPOS, mujoco.mjtObj.mjOBJ_SITE, site)

    def add_sensor(
        self, name: str, sensor_type: mujoco.mjtSensor, objtype: mujoco.mjtObj, objname: str
    ) -> None:
        self.spec.add_sensor(name=name, type=sensor_type, objtype=objtype, objname=objname)

    def _object_sensors(self, body: str) -> None:
        # PhysX reports a body's linear velocity at its centre of mass (mjOBJ_BODY is MuJoCo's
        # inertial frame); the angular velocity is the same at every point
        com = mujoco.mjtObj.mjOBJ_BODY
        self.add_sensor(f"{body}_linvel", mujoco.mjtSensor.mjSENS_FRAMELINVEL, com, body)
        self.add_sensor(f"{body}_angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL, com, body)

    def _hand_sensors(self) -> None:
        site = mujoco.mjtObj.mjOBJ_SITE
        sens = mujoco.mjtSensor
        for prefix in HAND_PREFIXES:
            # as upstream's fingertip states (Isaac Gym rigid-body states) and force sensors: the
            # distal bodies' frames for the pose, their centres of mass for the linear velocity
            # (PhysX's velocity point), mjOBJ_XBODY being a body's frame and mjOBJ_BODY its COM
            for tip, body in zip(FINGERTIP_SITES, FINGERTIP_BODIES, strict=True):
                name = f"{prefix}robot0:{tip}"
                for suffix, kind, frame in (
                    ("pos", sens.mjSENS_FRAMEPOS, mujoco.mjtObj.mjOBJ_XBODY),
                    ("quat", sens.mjSENS_FRAMEQUAT, mujoco.mjtObj.mjOBJ_XBODY),
                    ("linvel", sens.mjSENS_FRAMELINVEL, mujoco.mjtObj.mjOBJ_BODY),
                    ("angvel", sens.mjSENS_FRAMEANGVEL, mujoco.mjtObj.mjOBJ_XBODY),
                ):
                    self.add_sensor(f"{name}_{suffix}", kind, frame, f"{prefix}robot0:{body}")
                for suffix, kind in (("force", sens.mjSENS_FORCE), ("torque", sens.mjSENS_TORQUE)):
                    self.add_sensor(f"{name}_{suffix}", kind, site, f"{prefix}robot0:ft_{body}")
            for suffix, kind in (("pos", sens.mjSENS_FRAMEPOS), ("quat", sens.mjSENS_FRAMEQUAT)):
                self.add_sensor(
                    f"{prefix}mount_{suffix}", kind, mujoco.mjtObj.mjOBJ_XBODY, f"{prefix}robot0:hand mount"
                )
            self.add_sensor(f"{prefix}palm_pos", sens.mjSENS_FRAMEPOS, site, f"{prefix}palm_center")

    def compile(self) -> Scene:
        self._hand_sensors()
        model = self.spec.compile()
        self._apply_physx_damping(model)
        hands = tuple(
            self._hand_index(model, prefix, mount)
            for prefix, mount in zip(HAND_PREFIXES, self.mounts, strict=True)
        )
        sensors = {
            model.sensor(i).name: slice(
                int(model.sensor_adr[i]), int(model.sensor_adr[i] + model.sensor_dim[i])
            )
            for i in range(model.nsensor)
        }
        free = {
            model.body(int(model.jnt_bodyid[j])).name: int(model.jnt_qposadr[j])
            for j in range(model.njnt)
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE
        }
        mocap = {
            model.body(b).name: int(model.body_mocapid[b])
            for b in range(model.nbody)
            if model.body_mocapid[b] >= 0
        }
        return Scene(model, hands, sensors, free, mocap, self.substeps)

    def _apply_physx_damping(self, model: mujoco.MjModel) -> None:
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        inertia = np.zeros((model.nv, model.nv))
        mujoco.mj_fullM(model, data, inertia)
        kinds = {  # per joint type: which of its dofs translate
            mujoco.mjtJoint.mjJNT_FREE: (True, True, True, False, False, False),
            mujoco.mjtJoint.mjJNT_BALL: (False, False, False),
            mujoco.mjtJoint.mjJNT_SLIDE: (True,),
            mujoco.mjtJoint.mjJNT_HINGE: (False,),
        }
        for name, (linear, angular) in self._physx_damping.items():
            joint = model.joint(name)
            adr = int(joint.dofadr[0])
            for k, translates in enumerate(kinds[mujoco.mjtJoint(int(joint.type[0]))]):
                rate = damping_rate(linear if translates else angular)
                model.dof_damping[adr + k] = rate * (inertia[adr + k, adr + k] - model.dof_armature[adr + k])

    @staticmethod
    def _hand_index(model: mujoco.MjModel, prefix: str, mount: HandMount) -> HandIndex:
        joints = [j for j in range(model.njnt) if model.joint(j).name.startswith(f"{prefix}robot0:")]
        actuators = [a for a in range(model.nu) if model.actuator(a).name.startswith(f"{prefix}robot0:")]
        base = model.joint(f"{prefix}base").id if mount.movable else None
        base_qpos = np.arange(7) + model.jnt_qposadr[base] if base is not None else np.zeros(0, np.int64)
        base_dof = np.arange(6) + model.jnt_dofadr[base] if base is not None else np.zeros(0, np.int64)
        return HandIndex(
            qpos=model.jnt_qposadr[joints].copy(),
            dof=model.jnt_dofadr[joints].copy(),
            joint_low=model.jnt_range[joints, 0].copy(),
            joint_high=model.jnt_range[joints, 1].copy(),
            actuators=np.asarray(actuators),
            ctrl_low=model.actuator_ctrlrange[actuators, 0].copy(),
            ctrl_high=model.actuator_ctrlrange[actuators, 1].copy(),
            base_qpos=base_qpos.astype(np.int64),
            base_dof=base_dof.astype(np.int64),
            force_body=model.body(f"{prefix}{FORCE_BODY}").id,
            mount_pos=np.asarray(mount.pos, dtype=np.float64),
            mount_quat=np.asarray(mount.quat, dtype=np.float64),
        )


def _mat2quat(rotation: np.ndarray) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(rotation, dtype=np.float64).flatten())
    return quat


@functools.cache
def hand_inertia() -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """One hand at its reference pose, in the frame it is mounted in: centre of mass, principal
    axes (columns, right-handed), mass and principal moments about the centre of mass."""
    spec = mujoco.MjSpec()
    base = spec.worldbody.add_body(name="base")
    base.add_freejoint()
    base.mass, base.inertia = 1e-6, [1e-9] * 3
    base.add_frame().attach_body(load_hand_spec().body("robot0:hand mount"), "h_", "")
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    mass = float(model.body_subtreemass[1])
    com = data.subtree_com[1].copy()
    inertia = full[3:6, 3:6] - mass * (com @ com * np.eye(3) - np.outer(com, com))
    principal, axes = np.linalg.eigh(inertia)
    if np.linalg.det(axes) < 0:
        axes[:, 2] = -axes[:, 2]
    return com, axes, mass, principal


def finger_point_index(scene: Scene) -> np.ndarray:
    """(2 hands, 5 fingers, 3) sensordata columns of the finger points `add_finger_points` made."""
    return np.array(
        [
            [
                list(range(scene.sensors[f"{p}finger_{f}"].start, scene.sensors[f"{p}finger_{f}"].stop))
                for f in FINGER_BODIES
            ]
            for p in HAND_PREFIXES
        ]
    )
