"""Scenes for the bimanual tasks, built with `mujoco.MjSpec`: two Shadow Hands, objects, goals.

A task adds its objects to a `SceneBuilder` and compiles it into a `Scene`, which keeps the
model together with the index arrays the torch task logic reads state through (joint,
actuator and sensor addresses), so that no task code looks a name up at step time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from bidexhands.assets import FINGERTIP_SITES, load_hand_spec

HAND_PREFIXES = ("hand0_", "hand1_")
# Contact bits: hand geoms collide with objects but not with each other (contype 1,
# conaffinity 0, from the model); objects use both bits; tables and the floor use bit 2 only,
# so hands pass through them while objects rest on them.
OBJECT_BITS = 3
STATIC_BITS = 2
# Moving bases: targets within this box around the start (metres, radians), position servos.
BASE_TRANSLATION_RANGE = 0.2
BASE_ROTATION_RANGE = 0.75
BASE_KP = (400.0, 40.0)
BASE_DAMPING = (80.0, 8.0)


@dataclass(frozen=True)
class HandMount:
    """Where a hand's base (the model's "hand mount" body) stands; `quat` is MuJoCo's wxyz."""

    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    movable: bool = False
    reach: float = BASE_TRANSLATION_RANGE  # how far a moving base's position targets go (m)


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
    base_qpos: np.ndarray  # (6,) or empty for a fixed base
    base_actuators: np.ndarray  # (6,) or empty
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
        base = frame.add_body(name=f"{prefix}base")
        axes = np.eye(3)
        for i, kind in enumerate(("x", "y", "z", "rx", "ry", "rz")):
            rotation = i >= 3
            base_child = base.add_body(name=f"{prefix}base_{kind}")
            base_child.mass = 0.01
            base_child.inertia = [1e-4, 1e-4, 1e-4]
            base_child.add_joint(
                name=f"{prefix}base_{kind}",
                type=mujoco.mjtJoint.mjJNT_HINGE if rotation else mujoco.mjtJoint.mjJNT_SLIDE,
                axis=list(axes[i % 3]),
                damping=BASE_DAMPING[rotation],
                armature=0.01,
            )
            limit = BASE_ROTATION_RANGE if rotation else mount.reach
            self.spec.add_actuator(
                name=f"{prefix}base_{kind}",
                target=f"{prefix}base_{kind}",
                trntype=mujoco.mjtTrn.mjTRN_JOINT,
                gainprm=[BASE_KP[rotation]] + [0] * 9,
                biasprm=[0, -BASE_KP[rotation], 0] + [0] * 7,
                biastype=mujoco.mjtBias.mjBIAS_AFFINE,
                ctrlrange=[-limit, limit],
                ctrllimited=True,
            )
            base = base_child
        frame = base.add_frame()
        frame.attach_body(hand.body("robot0:hand mount"), prefix, "")

    def add_free_object(self, name: str, *, pos, geoms: list[dict], damping: float = 0.01) -> mujoco.MjsBody:
        """A free body made of `geoms` (MjSpec geom keyword arguments), colliding with the hands."""
        body = self.spec.worldbody.add_body(name=name, pos=list(pos))
        body.add_freejoint(name=f"{name}_joint")
        for i, kwargs in enumerate(geoms):
            body.add_geom(
                name=f"{name}_geom{i}", contype=OBJECT_BITS, conaffinity=OBJECT_BITS, condim=4, **kwargs
            )
        self.spec.joint(f"{name}_joint").damping = [damping] * 3
        self._object_sensors(name)
        return body

    def add_goal_marker(self, name: str, *, pos, geoms: list[dict]) -> None:
        """A translucent mocap body showing a goal in renders; it takes no part in physics."""
        body = self.spec.worldbody.add_body(name=name, pos=list(pos), mocap=True)
        for kwargs in geoms:
            body.add_geom(contype=0, conaffinity=0, group=2, **kwargs)

    def add_static(self, name: str, **geom) -> None:
        """A fixed geom objects collide with and hands pass through (tables)."""
        self.spec.worldbody.add_geom(name=name, contype=STATIC_BITS, conaffinity=STATIC_BITS, **geom)

    def add_sensor(
        self, name: str, sensor_type: mujoco.mjtSensor, objtype: mujoco.mjtObj, objname: str
    ) -> None:
        self.spec.add_sensor(name=name, type=sensor_type, objtype=objtype, objname=objname)

    def _object_sensors(self, body: str) -> None:
        xbody = mujoco.mjtObj.mjOBJ_XBODY
        self.add_sensor(f"{body}_linvel", mujoco.mjtSensor.mjSENS_FRAMELINVEL, xbody, body)
        self.add_sensor(f"{body}_angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL, xbody, body)

    def _hand_sensors(self) -> None:
        site = mujoco.mjtObj.mjOBJ_SITE
        sens = mujoco.mjtSensor
        for prefix in HAND_PREFIXES:
            for tip in FINGERTIP_SITES:
                name = f"{prefix}robot0:{tip}"
                for suffix, kind in (
                    ("pos", sens.mjSENS_FRAMEPOS),
                    ("quat", sens.mjSENS_FRAMEQUAT),
                    ("linvel", sens.mjSENS_FRAMELINVEL),
                    ("angvel", sens.mjSENS_FRAMEANGVEL),
                    ("force", sens.mjSENS_FORCE),
                    ("torque", sens.mjSENS_TORQUE),
                ):
                    self.add_sensor(f"{name}_{suffix}", kind, site, name)
            for suffix, kind in (("pos", sens.mjSENS_FRAMEPOS), ("quat", sens.mjSENS_FRAMEQUAT)):
                self.add_sensor(
                    f"{prefix}mount_{suffix}", kind, mujoco.mjtObj.mjOBJ_XBODY, f"{prefix}robot0:hand mount"
                )
            self.add_sensor(f"{prefix}palm_pos", sens.mjSENS_FRAMEPOS, site, f"{prefix}palm_center")

    def compile(self) -> Scene:
        self._hand_sensors()
        model = self.spec.compile()
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

    @staticmethod
    def _hand_index(model: mujoco.MjModel, prefix: str, mount: HandMount) -> HandIndex:
        joints = [j for j in range(model.njnt) if model.joint(j).name.startswith(f"{prefix}robot0:")]
        actuators = [a for a in range(model.nu) if model.actuator(a).name.startswith(f"{prefix}robot0:")]
        base_joints = (
            [model.joint(f"{prefix}base_{k}").id for k in ("x", "y", "z", "rx", "ry", "rz")]
            if mount.movable
            else []
        )
        base_act = (
            [model.actuator(f"{prefix}base_{k}").id for k in ("x", "y", "z", "rx", "ry", "rz")]
            if mount.movable
            else []
        )
        return HandIndex(
            qpos=model.jnt_qposadr[joints].copy(),
            dof=model.jnt_dofadr[joints].copy(),
            joint_low=model.jnt_range[joints, 0].copy(),
            joint_high=model.jnt_range[joints, 1].copy(),
            actuators=np.asarray(actuators),
            ctrl_low=model.actuator_ctrlrange[actuators, 0].copy(),
            ctrl_high=model.actuator_ctrlrange[actuators, 1].copy(),
            base_qpos=model.jnt_qposadr[base_joints].copy() if base_joints else np.zeros(0, dtype=np.int64),
            base_actuators=np.asarray(base_act, dtype=np.int64),
            mount_pos=np.asarray(mount.pos, dtype=np.float64),
            mount_quat=np.asarray(mount.quat, dtype=np.float64),
        )
