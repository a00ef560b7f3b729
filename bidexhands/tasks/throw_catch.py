"""Object-to-goal tasks: ShadowHandOver and the catch variants (Bi-DexHands'
bidexhands/tasks/shadow_hand_{over,catch_underarm,catch_over2underarm,catch_abreast,
two_catch_underarm}.py with their bidexhands/cfg/ShadowHand*.yaml).

One egg (two for TwoCatch) must reach a goal pose held out over the other hand. Per object the
reward is exp(-0.2 (s d + theta)), d the object-goal distance, theta the rotation distance and s
the config's distRewardScale, plus fallPenalty (0 in every config) for an egg at or below the
task's fall height; ShadowHandOver also adds reachGoalBonus when d is exactly 0. An episode ends
early when an egg is at or below the fall height, or (Over2Underarm, Abreast) when a hand has
drifted 0.1 m or more from where upstream pins it; success is d < 0.03 (TwoCatch: d1 + d2 <
0.06) at some step of the episode. maxConsecutiveSuccesses is 0 in every config, so goals are
never re-drawn within an episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import torch

from bidexhands.physics import Readings
from bidexhands.rotations import quat_conjugate, quat_mul, random_tilt, rotation_distance, to_xyzw
from bidexhands.safety import ActionBandCost
from bidexhands.scene import HAND_PREFIXES, HandMount, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Outcome, Published, Task, uniform

# Bi-DexHands' "egg" (assets/mjcf/open_ai_assets/hand/egg.xml): an ellipsoid of semi-axes
# 3, 3, 4 cm with a damped (0.01) free joint, loaded with asset density 500 (about 75 g).
EGG_SIZE = (0.03, 0.03, 0.04)
EGG_DENSITY = 500.0
EGG = {"type": mujoco.mjtGeom.mjGEOM_ELLIPSOID, "size": list(EGG_SIZE), "density": EGG_DENSITY}
EGG_COLOURS = ((0.6, 0.72, 0.98, 1.0), (0.98, 0.6, 0.72, 1.0))
SUCCESS_DISTANCE = 0.03  # per object; TwoCatch's test is d1 + d2 < 0.06
VEL_SCALE = 0.2  # vel_obs_scale
DRIFT_LIMIT = 0.1
# Which body of each hand a drift check measures: upstream's root ("hand mount") or its palm.
DRIFT_BODIES = {"mount": "robot0:hand mount", "palm": "robot0:palm"}


@dataclass
class ObjectToGoal(Task):
    """Objects start at `object_starts` (plus noise) and must reach `goal_starts` poses."""

    name: str
    cfg: Published
    mounts: tuple[HandMount, HandMount]
    object_starts: tuple[tuple[float, float, float], ...]
    goal_starts: tuple[tuple[float, float, float], ...]
    fall_height: float = 0.2
    # (body kind, per-hand centre): an episode ends when that body of a hand is DRIFT_LIMIT away
    drift: tuple[str, tuple[tuple[float, float, float], tuple[float, float, float]]] | None = None
    goal_bonus: bool = False  # ShadowHandOver adds reachGoalBonus when the goal distance is 0
    random_object_rotation: bool = True
    random_goal_rotation: bool = True
    safety: ActionBandCost | None = None  # the safe variants' cost (bidexhands/tasks/safe.py)

    @property
    def distance_scale(self) -> float:
        return self.cfg.dist_reward_scale

    def build(self, builder: SceneBuilder) -> None:
        for i, (start, goal) in enumerate(zip(self.object_starts, self.goal_starts, strict=True)):
            colour = list(EGG_COLOURS[i % 2])
            builder.add_free_object(f"object{i}", pos=start, geoms=[{**EGG, "rgba": colour}])
            builder.add_goal_marker(f"goal{i}", pos=goal, geoms=[{**EGG, "rgba": colour[:3] + [0.4]}])
        if self.drift is not None:
            body = DRIFT_BODIES[self.drift[0]]
            for prefix in HAND_PREFIXES:
                builder.add_sensor(
                    f"{prefix}drift_pos",
                    mujoco.mjtSensor.mjSENS_FRAMEPOS,
                    mujoco.mjtObj.mjOBJ_XBODY,
                    prefix + body,
                )

    def bind(self, scene: Scene, num_envs: int, device: torch.device) -> None:
        k = len(self.object_starts)
        self._adr = [scene.free_joints[f"object{i}"] for i in range(k)]
        self._vel = [
            (scene.sensors[f"object{i}_linvel"], scene.sensors[f"object{i}_angvel"]) for i in range(k)
        ]
        self._object_start = torch.tensor(self.object_starts, dtype=torch.float32, device=device)
        self._goal_start = torch.tensor(self.goal_starts, dtype=torch.float32, device=device)
        self.goal_pos = self._goal_start.expand(num_envs, k, 3).clone()
        self.goal_quat = torch.zeros(num_envs, k, 4, device=device)
        self.goal_quat[..., 0] = 1.0
        self.device = device
        if self.drift is not None:
            self._drift_sensors = [scene.sensors[f"{prefix}drift_pos"] for prefix in HAND_PREFIXES]
            self._drift_centre = torch.tensor(self.drift[1], dtype=torch.float32, device=device)

    @property
    def shared_obs_dim(self) -> int:
        return 24 * len(self.object_starts)

    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, generator: torch.Generator) -> None:
        # one draw per copy shared by every object and goal, as upstream (TwoCatch's two eggs
        # get the same position noise and rotation, and its two goals the same rotation)
        k, dev = len(ids), self.device
        noise = uniform(generator, (k, 3), dev)
        rot = uniform(generator, (k, 2), dev)
        goal_rot = uniform(generator, (k, 2), dev)
        for i, adr in enumerate(self._adr):
            qpos[:, adr : adr + 3] = self._object_start[i] + self.cfg.reset_position_noise * noise
            if self.random_object_rotation:
                qpos[:, adr + 3 : adr + 7] = random_tilt(rot)
            self.goal_pos[ids, i] = self._goal_start[i]
            if self.random_goal_rotation:
                self.goal_quat[ids, i] = random_tilt(goal_rot)

    def object_pose(self, r: Readings, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        adr = self._adr[i]
        return r.qpos[:, adr : adr + 3], r.qpos[:, adr + 3 : adr + 7]

    def object_velocity(self, r: Readings, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        linvel, angvel = (r.sensordata[:, idx] for idx in self._vel[i])
        return linvel, angvel

    def shared_obs(self, r: Readings) -> torch.Tensor:
        """Per object: pose 7 | linvel 3 | angvel x 0.2 | goal pose 7 | object rot * conj(goal rot) 4,
        each quaternion in upstream's (x, y, z, w) order."""
        parts = []
        for i in range(len(self._adr)):
            pos, quat = self.object_pose(r, i)
            linvel, angvel = self.object_velocity(r, i)
            goal_pos, goal_quat = self.goal_pos[:, i], self.goal_quat[:, i]
            parts += [
                pos,
                to_xyzw(quat),
                linvel,
                VEL_SCALE * angvel,
                goal_pos,
                to_xyzw(goal_quat),
                to_xyzw(quat_mul(quat, quat_conjugate(goal_quat))),
            ]
        return torch.cat(parts, dim=1)

    def drift_distance(self, r: Readings) -> torch.Tensor:
        """(N, 2) distance of each hand's drift body from the centre upstream pins it to."""
        pos = torch.stack([r.sensordata[:, sl] for sl in self._drift_sensors], dim=1)
        return torch.linalg.vector_norm(pos - self._drift_centre, dim=-1)

    def evaluate(self, r: Readings, hands: HandState) -> Outcome:
        cfg = self.cfg
        reward = torch.zeros(r.qpos.shape[0], device=r.qpos.device)
        fell = torch.zeros_like(reward, dtype=torch.bool)
        distance_sum = torch.zeros_like(reward)
        for i in range(len(self._adr)):
            pos, quat = self.object_pose(r, i)
            distance = torch.linalg.vector_norm(self.goal_pos[:, i] - pos, dim=1)
            theta = rotation_distance(quat, self.goal_quat[:, i])
            reward += torch.exp(-0.2 * (cfg.dist_reward_scale * distance + theta))
            if self.goal_bonus:
                reward += cfg.reach_goal_bonus * (distance <= 0).float()
            down = pos[:, 2] <= self.fall_height
            reward += cfg.fall_penalty * down.float()
            fell |= down
            distance_sum += distance
        if self.drift is not None:
            fell |= (self.drift_distance(r) >= DRIFT_LIMIT).any(dim=1)
        success = distance_sum < SUCCESS_DISTANCE * len(self._adr)
        return Outcome(reward=reward, terminated=fell, success=success)


def _euler_zyx(roll: float, pitch: float, yaw: float) -> tuple[float, float, float, float]:
    """Isaac Gym's Quat.from_euler_zyx(roll, pitch, yaw) (R = Rz Ry Rx) as MuJoCo wxyz."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    )


def _catch_cfg(**changes) -> Published:
    """ShadowHandCatchUnderarm.yaml's env block; the other catch configs differ only in `changes`."""
    values = {
        "episode_length": 75,
        "reset_position_noise": 0.01,
        "reset_rotation_noise": 0.0,
        "reset_dof_pos_noise": 0.2,
        "reset_dof_vel_noise": 0.0,
        "dist_reward_scale": 50.0,
        "rot_reward_scale": 1.0,
        "rot_eps": 0.1,
        "action_penalty_scale": -0.0002,
        "reach_goal_bonus": 250.0,
        "fall_distance": 0.65,
        "fall_penalty": 0.0,
        "success_tolerance": 0.1,
        "max_consecutive_successes": 0,
        "object_type": "egg",
        "transition_scale": 0.05,
        "orientation_scale": 0.5,
    }
    return Published(**{**values, **changes})


# Isaac Gym's half turn about z as upstream writes it (3.1415 for the catch tasks' hand1).
HALF_TURN = _euler_zyx(0.0, 0.0, 3.1415)


def shadow_hand_over() -> ObjectToGoal:
    """Fixed hands, palms up, facing each other 1 m apart; hand0 throws the egg to hand1."""
    return ObjectToGoal(
        name="ShadowHandOver",
        cfg=_catch_cfg(fall_distance=0.4, transition_scale=None, orientation_scale=None),
        mounts=(HandMount((0.0, 0.0, 0.5)), HandMount((0.0, -1.0, 0.5), HALF_TURN)),
        object_starts=((0.0, -0.39, 0.54),),  # hand0 + (0, -0.39, 0.04)
        goal_starts=((0.0, -0.64, 0.54),),  # the start, 0.25 m along -y
        fall_height=0.2,
        goal_bonus=True,
    )


def shadow_hand_catch_underarm() -> ObjectToGoal:
    """Palms up 1.15 m apart, moving bases; the egg is tossed underarm to a goal 0.4 m away."""
    return ObjectToGoal(
        name="ShadowHandCatchUnderarm",
        cfg=_catch_cfg(),
        mounts=(
            HandMount((0.0, 0.0, 0.5), movable=True),
            HandMount((0.0, -1.15, 0.5), HALF_TURN, movable=True),
        ),
        object_starts=((0.0, -0.39, 0.54),),
        goal_starts=((0.0, -0.79, 0.54),),  # the start, 0.4 m along -y
        fall_height=0.1,
    )


def shadow_hand_catch_over2underarm() -> ObjectToGoal:
    """hand0 stands fingers-up and throws overarm; hand1, palm up, catches below."""
    return ObjectToGoal(
        name="ShadowHandCatchOver2Underarm",
        cfg=_catch_cfg(
            reset_position_noise=0.0,
            reset_dof_pos_noise=0.0,
            dist_reward_scale=20.0,
            fall_distance=2.0,
            transition_scale=0.1,
            orientation_scale=2.0,
        ),
        mounts=(
            HandMount((0.0, 0.0, 0.5), _euler_zyx(1.57 + 0.1, 3.14, 0.0), movable=True),
            HandMount((0.0, -0.8, 0.5), HALF_TURN, movable=True),
        ),
        object_starts=((0.0, 0.05, 1.0),),  # hand0 + (0, 0.05, 0.5)
        goal_starts=((0.0, -0.40, 0.55),),  # the start, 0.45 m along -y and 0.45 m down
        fall_height=0.3,
        drift=("mount", ((0.0, 0.0, 0.5), (0.0, -0.8, 0.5))),
    )


def shadow_hand_catch_abreast() -> ObjectToGoal:
    """Hands side by side, tilted towards each other; the egg goes sideways from one to the other."""
    return ObjectToGoal(
        name="ShadowHandCatchAbreast",
        cfg=_catch_cfg(
            episode_length=150,
            reset_position_noise=0.0,
            reset_dof_pos_noise=0.0,
            transition_scale=0.5,
            orientation_scale=1.0,
        ),
        mounts=(
            HandMount((0.0, -0.55, 0.5), _euler_zyx(0.0, 0.3925, -1.57), movable=True),
            HandMount((0.0, -1.15, 0.5), _euler_zyx(0.0, -0.3925, -1.57), movable=True),
        ),
        object_starts=((-0.39, -0.55, 0.54),),  # hand0 + (-0.39, 0, 0.04)
        goal_starts=((-0.39, -1.15, 0.54),),  # the start, 0.6 m along -y
        fall_height=0.2,
        # upstream measures the palm bodies (rigid bodies 3 and 3 + 26), not the bases
        drift=("palm", ((-0.3, -0.55, 0.5), (-0.3, -1.15, 0.5))),
    )


def shadow_hand_two_catch_underarm() -> ObjectToGoal:
    """CatchUnderarm with an egg in each palm: both throw and both catch at once."""
    return ObjectToGoal(
        name="ShadowHandTwoCatchUnderarm",
        cfg=_catch_cfg(),
        mounts=(
            HandMount((0.0, 0.0, 0.5), movable=True),
            HandMount((0.0, -1.15, 0.5), HALF_TURN, movable=True),
        ),
        # egg 2 starts 0.39 m along -y from egg 1; goal 1 is 0.4 m along -y from egg 1's start,
        # goal 2 0.4 m along +y from egg 2's
        object_starts=((0.0, -0.39, 0.54), (0.0, -0.78, 0.54)),
        goal_starts=((0.0, -0.79, 0.54), (0.0, -0.38, 0.54)),
        fall_height=0.2,
    )
