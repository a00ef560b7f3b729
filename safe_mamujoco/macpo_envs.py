"""MACPO's single-robot obstacle envs on MuJoCo 3+, written from its definitions.

Each env's `step` returns (features, reward, terminated, False, info with "cost") and
`_get_obs` gives the robot's single-agent feature vector with its obstacle features,
in upstream's order; `safe_mamujoco.macpo` splits the robot into agents. MuJoCo's
data are read at the same points upstream reads them (body positions after `mj_step`
are those of the last substep's start, as with mujoco-py), so the numbers follow the
same definitions. Every item and its upstream file:line is in FIDELITY.md.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import gymnasium
import mujoco
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from safe_mamujoco import costs, scenes


class SceneEnv(MujocoEnv):
    """A MuJoCo env compiled from an MJCF string; the action drives the first `robot_actuators` motors
    (all when None), the others (a bomb's) are the env's own."""

    metadata = {"render_modes": ["rgb_array"]}  # noqa: RUF012 (gymnasium's class attribute)

    def __init__(
        self,
        xml: str,
        frame_skip: int,
        robot_actuators: int | None,
        feature_size: int,
        *,
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
        camera: dict[str, float] | None = None,
    ):
        self._robot_actuators = robot_actuators
        with tempfile.TemporaryDirectory(prefix="marlsuite-mjcf-") as folder:
            path = os.path.join(folder, "scene.xml")
            with open(path, "w") as file:
                file.write(xml)
            super().__init__(
                path,
                frame_skip,
                gymnasium.spaces.Box(-np.inf, np.inf, (feature_size,), np.float64),
                render_mode=render_mode,
                width=width,
                height=height,
                default_camera_config=camera,
            )

    def _set_action_space(self) -> gymnasium.spaces.Box:
        bounds = self.model.actuator_ctrlrange[: self._robot_actuators or self.model.nu].astype(np.float32)
        self.action_space = gymnasium.spaces.Box(bounds[:, 0], bounds[:, 1], dtype=np.float32)
        return self.action_space


# ----------------------------------------------------------------------------- ant corridor


@dataclass(frozen=True)
class CorridorAnt:
    """Which robot state an ant corridor env observes and noises at reset.

    `observed_qpos`/`observed_qvel` are the qpos entries after x, y and the qvel entries
    in the observation; `noisy_qpos`/`noisy_qvel` those that get reset noise.
    """

    torso: str
    wall_offset: float
    frame_skip: int
    observed_qpos: slice
    observed_qvel: slice
    noisy_qpos: slice
    noisy_qvel: slice

    @property
    def feature_size(self) -> int:
        return _slice_len(self.observed_qpos) + _slice_len(self.observed_qvel) + 2


def _slice_len(s: slice) -> int:
    return max(s.stop - s.start, 0)


# MACPO's ant.xml has six free wall bodies after the robot (42 qpos, 36 qvel), which `_get_obs`
# and `reset_model` cut off with [:-42] / [:-36]: exactly the robot's 15 qpos and 14 qvel.
ANT = CorridorAnt("torso", 5.0, 5, slice(2, 15), slice(0, 14), slice(0, 15), slice(0, 14))


def many_agent_ant(segments: int, *, published_slicing: bool = True) -> CorridorAnt:
    """The many-segment ant; `published_slicing` keeps upstream's six-wall cut on its two-wall model.

    Upstream's model has the robot (7 + 4 n qpos, 6 + 4 n qvel) and two free walls (14 qpos,
    12 qvel) but cuts off 42 and 36 entries, so with 6 segments it observes qpos[2:3] and
    qvel[0:6] only and noises qpos[0:3], qvel[0:6]. The slices below are Python's result of
    upstream's [:-42] / [:-36] on the full upstream vectors, expressed on the robot's part.
    """
    nq, nv = 7 + 4 * segments, 6 + 4 * segments
    if published_slicing:
        q_end, v_end = max(nq + 14 - 42, 0), max(nv + 12 - 36, 0)
    else:
        q_end, v_end = nq, nv
    return CorridorAnt(
        "torso_0", 4.5, 4, slice(2, max(q_end, 2)), slice(0, v_end), slice(0, q_end), slice(0, v_end)
    )


class CorridorAntEnv(SceneEnv):
    """MACPO's ant corridor (Ant-v2 scenario, or `manyagent_ant`): reward, cost, flip, obs."""

    def __init__(self, xml: str, corridor: CorridorAnt, **render: Any):
        self.corridor = corridor
        super().__init__(xml, corridor.frame_skip, None, corridor.feature_size, **render)
        self._torso = self.model.body(corridor.torso).id

    def step(self, action: np.ndarray):
        data, torso = self.data, self._torso
        x_before = float(data.xpos[torso, 0])
        self.do_simulation(action, self.frame_skip)  # then mj_rnePostConstraint: cfrc_ext for this state
        x, y = float(data.xpos[torso, 0]), float(data.xpos[torso, 1])
        forward = (x - x_before) / self.dt
        ctrl_cost = 0.5 * float(np.square(action).sum())
        contact_cost = 0.5e-3 * float(np.square(np.clip(data.cfrc_ext, -1.0, 1.0)).sum())
        reward = forward - ctrl_cost - contact_cost + 1.0  # survive reward on every step, the last too
        fell = costs.ant_fell(self.state_vector(), float(data.qpos[2]), data.xquat[torso])
        near = costs.near_corridor_wall(x, y, self.corridor.wall_offset)
        cost = min(float(near) + float(fell), 1.0)
        info = {"cost": cost, "cost_obj": float(near), "cost_done": float(fell), "reward_forward": forward}
        return self._get_obs(), reward, fell, False, info

    def _get_obs(self) -> np.ndarray:
        qpos, qvel, corridor = self.data.qpos, self.data.qvel, self.corridor
        x, y = float(qpos[0]), float(qpos[1])
        corridor_features = (x / 5.0, y - costs.corridor_centre_y(x))
        return np.concatenate((qpos[corridor.observed_qpos], qvel[corridor.observed_qvel], corridor_features))

    def reset_model(self) -> np.ndarray:
        corridor, rng = self.corridor, self.np_random
        qpos, qvel = self.init_qpos.copy(), self.init_qvel.copy()
        noise_q = rng.uniform(-0.1, 0.1, self.model.nq)
        noise_v = 0.1 * rng.standard_normal(self.model.nv)
        qpos[corridor.noisy_qpos] += noise_q[corridor.noisy_qpos]
        qvel[corridor.noisy_qvel] += noise_v[corridor.noisy_qvel]
        self.set_state(qpos, qvel)
        return self._get_obs()


# ----------------------------------------------------------------------------- bomb cheetahs


class _BombMixin:
    """The sliding bomb shared by the cheetah scenes: its joint, geom and forcing signal."""

    model: mujoco.MjModel
    data: mujoco.MjData

    def _find_bomb(self) -> None:
        self._bomb_qvel = int(self.model.jnt_dofadr[self.model.joint(scenes.BOMB_JOINT).id])
        self._bomb_geom = self.model.geom(scenes.BOMB_GEOM).id

    @property
    def bomb_x(self) -> float:
        """The bomb's centre x as MuJoCo last computed it (what upstream's cost and obs read)."""
        return float(self.data.geom_xpos[self._bomb_geom, 0])

    def _bomb_features(self, robot_x: float) -> tuple[float, float, float]:
        """Bomb velocity, the forcing signal now, and (bomb x - robot x) / 10 clipped to [-5, 5]."""
        distance = min(max((self.bomb_x - robot_x) / 10.0, -5.0), 5.0)
        return float(self.data.qvel[self._bomb_qvel]), costs.bomb_control(float(self.data.time)), distance

    def _noisy_reset(self) -> None:
        """Uniform(+-0.1) on every qpos and 0.1 N(0, 1) on every qvel, the bomb's included."""
        rng = self.np_random
        qpos = self.init_qpos + rng.uniform(-0.1, 0.1, self.model.nq)
        qvel = self.init_qvel + 0.1 * rng.standard_normal(self.model.nv)
        self.set_state(qpos, qvel)


class BombCheetahEnv(_BombMixin, SceneEnv):
    """MACPO's HalfCheetah with the bomb: run reward, cost within 9 m of the bomb, never terminates."""

    RADIUS = 9.0

    def __init__(self, **render: Any):
        super().__init__(scenes.cheetah_bomb_xml(), 5, 6, 20, **render)
        self._find_bomb()

    def step(self, action: np.ndarray):
        qpos = self.data.qpos
        x_before = float(qpos[0])
        push = costs.bomb_control(float(self.data.time))  # held over the env step's substeps
        self.do_simulation(np.append(action, push), self.frame_skip)
        x = float(qpos[0])
        run = (x - x_before) / self.dt
        ctrl = -0.1 * float(np.square(action).sum())
        cost = costs.proximity_cost(x, self.bomb_x, self.RADIUS)
        return (
            self._get_obs(),
            run + ctrl,
            False,
            False,
            {"cost": cost, "reward_run": run, "reward_ctrl": ctrl},
        )

    def _get_obs(self) -> np.ndarray:
        qpos, qvel = self.data.qpos, self.data.qvel
        return np.concatenate((qpos[1:9], qvel[0:9], self._bomb_features(float(qpos[0]))))

    def reset_model(self) -> np.ndarray:
        self._noisy_reset()
        return self._get_obs()


class CoupledBombCheetahEnv(_BombMixin, SceneEnv):
    """Our coupled-cheetah bomb task after MACPO's: cost when either torso is within 5 m of the bomb.

    Two cheetahs (qpos 0-8 and 9-17) tied by Gymnasium-Robotics' tendon, with the
    HalfCheetah bomb. Features: each cheetah's qpos without root x, both qvel, bomb
    velocity, forcing signal, and each cheetah's clipped bomb distance (38 values).
    """

    RADIUS = 5.0
    TORSOS = ("torso0", "torso1")

    def __init__(self, **render: Any):
        super().__init__(scenes.coupled_bomb_xml(), 5, 12, 38, **render)
        self._find_bomb()
        self._torsos = [self.model.body(name).id for name in self.TORSOS]

    def step(self, action: np.ndarray):
        xpos = self.data.xpos
        before = [float(xpos[b, 0]) for b in self._torsos]
        push = costs.bomb_control(float(self.data.time))
        self.do_simulation(np.append(action, push), self.frame_skip)
        after = [float(xpos[b, 0]) for b in self._torsos]
        run = sum(a - b for a, b in zip(after, before, strict=True)) / (2 * self.dt)
        ctrl = -0.1 * float(np.square(action).sum()) / 2
        cost = max(costs.proximity_cost(x, self.bomb_x, self.RADIUS) for x in after)
        return (
            self._get_obs(),
            run + ctrl,
            False,
            False,
            {"cost": cost, "reward_run": run, "reward_ctrl": ctrl},
        )

    def _get_obs(self) -> np.ndarray:
        qpos, qvel = self.data.qpos, self.data.qvel
        velocity, push, distance = self._bomb_features(float(qpos[0]))
        distance2 = self._bomb_features(float(qpos[9]))[2]
        return np.concatenate((qpos[1:9], qpos[10:18], qvel[0:18], (velocity, push, distance, distance2)))

    def reset_model(self) -> np.ndarray:
        self._noisy_reset()
        return self._get_obs()

    def tendon_jacobian_obs(self) -> np.ndarray:
        """Gymnasium-Robotics' tendon features (for `observation="local"`)."""
        from safe_mamujoco.coupled import JACOBIAN_COLUMNS, TENDON, dense_tendon_jacobian

        return dense_tendon_jacobian(self.model, self.data)[TENDON, JACOBIAN_COLUMNS]


# ----------------------------------------------------------------------------- hopper


class ObstacleHopperEnv(SceneEnv):
    """Our hopper-obstacle task after MACPO's: a box moving at x = t + sin t + 3 in the hopper's path.

    Reward, termination and reset are Gym's Hopper ones, which MACPO's `hopper.py` means
    (it reads them from the obstacle's free joint by mistake); cost within 1 m of the box.
    Features: Gymnasium's 11 hopper values, then the box's velocity 1 + cos t, its
    acceleration -sin t and its x minus the hopper's.
    """

    RADIUS = 1.0

    def __init__(self, **render: Any):
        super().__init__(scenes.hopper_obstacle_xml(costs.hopper_obstacle_x(0.0)), 4, 3, 14, **render)
        self._mocap = int(self.model.body_mocapid[self.model.body(scenes.HOPPER_OBSTACLE).id])

    @property
    def obstacle_x(self) -> float:
        return float(self.data.mocap_pos[self._mocap, 0])

    def step(self, action: np.ndarray):
        qpos = self.data.qpos
        self.data.mocap_pos[self._mocap, 0] = costs.hopper_obstacle_x(float(self.data.time))
        x_before = float(qpos[0])
        self.do_simulation(action, self.frame_skip)
        x, height, angle = (float(v) for v in qpos[0:3])
        reward = (x - x_before) / self.dt + 1.0 - 1e-3 * float(np.square(action).sum())
        state = self.state_vector()
        healthy = (
            bool(np.isfinite(state).all())
            and bool((np.abs(state[2:]) < 100).all())
            and height > 0.7
            and abs(angle) < 0.2
        )
        cost = costs.proximity_cost(x, self.obstacle_x, self.RADIUS)
        return self._get_obs(), reward, not healthy, False, {"cost": cost}

    def _get_obs(self) -> np.ndarray:
        qpos, t = self.data.qpos, float(self.data.time)
        obstacle = (1.0 + math.cos(t), -math.sin(t), self.obstacle_x - float(qpos[0]))
        return np.concatenate((qpos[1:], np.clip(self.data.qvel, -10.0, 10.0), obstacle))

    def reset_model(self) -> np.ndarray:
        rng = self.np_random
        qpos = self.init_qpos + rng.uniform(-0.005, 0.005, self.model.nq)
        qvel = self.init_qvel + rng.uniform(-0.005, 0.005, self.model.nv)
        self.set_state(qpos, qvel)
        return self._get_obs()
