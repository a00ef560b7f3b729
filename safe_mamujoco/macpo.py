"""MACPO's obstacle tasks as suite envs: its robot split into agents the way its `MujocoMulti` does.

Upstream hands agent i the i-th consecutive slice of the action vector, sized by the
partition (the partition's joint lists are never used to route actions), and gives
every agent the robot's whole feature vector (obstacle features included) plus a
one-hot agent id, standardised by the vector's own mean and std; its per-agent global
state is built the same way. `observation="local"` instead gives Gymnasium-Robotics'
`mamujoco_v1` k-nearest local observations and routes actions by the partition's
joints, as the plain MaMuJoCo tasks do. See FIDELITY.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from envs.vector.copy import CopySpec, CopyStep
from envs.vector.env import VectorEnv
from safe_mamujoco import costs, macpo_envs, scenes
from safe_mamujoco.env import EPISODE_STEPS, check_copy_options
from safe_mamujoco.robots import MANY_SEGMENT, resolve

OBSERVATIONS = ("upstream", "local")


@dataclass(frozen=True)
class Scene:
    """An obstacle scene of one robot: what its constraint is (for spec metadata), its env step in
    seconds (known before any copy is built, for video frame rates) and its camera."""

    kind: str
    control_dt: float
    describe: dict[str, Any] = field(default_factory=dict)
    camera: dict[str, float] = field(default_factory=dict)


_FOLLOW = {"type": 1, "trackbodyid": 1}
SCENES: dict[str, Scene] = {
    "Ant": Scene(
        "corridor",
        0.05,
        {"wall_offset": 5.0, "wall_margin": costs.CORRIDOR_MARGIN},
        {**_FOLLOW, "distance": 14.0, "elevation": -40.0},
    ),
    "ManySegmentAnt": Scene(
        "corridor",
        0.02,
        {"wall_offset": 4.5, "wall_margin": costs.CORRIDOR_MARGIN},
        {**_FOLLOW, "distance": 14.0, "elevation": -40.0},
    ),
    "HalfCheetah": Scene(
        "bomb",
        0.05,
        {"radius": macpo_envs.BombCheetahEnv.RADIUS},
        {**_FOLLOW, "distance": 14.0, "elevation": -45.0, "azimuth": 90.0},
    ),
    "CoupledHalfCheetah": Scene(
        "bomb",
        0.05,
        {"radius": macpo_envs.CoupledBombCheetahEnv.RADIUS},
        {**_FOLLOW, "distance": 14.0, "elevation": -45.0, "azimuth": 90.0},
    ),
    "Hopper": Scene(
        "moving_obstacle",
        0.008,
        {"radius": macpo_envs.ObstacleHopperEnv.RADIUS},
        {**_FOLLOW, "distance": 6.0, "elevation": -10.0, "azimuth": 90.0},
    ),
}


def build_scene_env(robot: str, agent_conf: str, *, fix_wall_slicing: bool = False, **render: Any):
    """The single-robot env of `robot`'s obstacle scene (`robot` as `robots.resolve` names it)."""
    render = {**render, "camera": SCENES[robot].camera}
    if robot == "Ant":
        return macpo_envs.CorridorAntEnv(scenes.ant_corridor_xml(), macpo_envs.ANT, **render)
    if robot == "ManySegmentAnt":
        agents, per_agent = (int(v) for v in agent_conf.split("x"))
        spec = macpo_envs.many_agent_ant(agents * per_agent, published_slicing=not fix_wall_slicing)
        return macpo_envs.CorridorAntEnv(
            scenes.many_agent_ant_corridor_xml(agents * per_agent), spec, **render
        )
    if robot == "HalfCheetah":
        return macpo_envs.BombCheetahEnv(**render)
    if robot == "CoupledHalfCheetah":
        return macpo_envs.CoupledBombCheetahEnv(**render)
    if robot == "Hopper":
        return macpo_envs.ObstacleHopperEnv(**render)
    raise ValueError(f"no MACPO obstacle scene for {robot!r}; scenes: {', '.join(SCENES)}")


def zscored_with_ids(features: np.ndarray, num_agents: int) -> np.ndarray:
    """Row i: [features, one-hot(i)] minus its mean, over its (population) std, as MACPO's `get_obs`.

    Every row holds the same values up to where the 1 sits, so one mean and std serve all.
    """
    row = np.concatenate((np.asarray(features, np.float64), np.zeros(num_agents)))
    row[len(features)] = 1.0
    mean, std = row.mean(), row.std()
    rows = np.tile(row, (num_agents, 1))
    rows[:, len(features) :] = np.eye(num_agents)
    return (rows - mean) / std


class MacpoCopy:
    """One copy of a MACPO obstacle task: team reward and cost, upstream's or local observations."""

    def __init__(
        self,
        robot: str,
        agent_conf: str,
        *,
        observation: str = "upstream",
        agent_obsk: int = 1,
        fix_wall_slicing: bool = False,
        max_episode_steps: int = EPISODE_STEPS,
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
    ):
        robot_spec, factorization = resolve(robot, agent_conf)
        scenario = robot_spec.scenario
        if render_mode is not None:
            os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen without a display
        self.sim = build_scene_env(
            scenario,
            agent_conf,
            fix_wall_slicing=fix_wall_slicing,
            render_mode=render_mode,
            width=width,
            height=height,
        )
        if scenario == "CoupledHalfCheetah":
            from safe_mamujoco.coupled import coupled_factorization

            factorization = coupled_factorization(self.sim, agent_conf)
        if factorization is None:
            from gymnasium_robotics.envs.multiagent_mujoco.obsk import get_parts_and_edges

            parts, edges, globals_ = get_parts_and_edges(scenario, agent_conf)
            factorization = {"partition": parts, "edges": edges, "globals": globals_}
        parts = factorization["partition"]
        agents = tuple(f"agent_{i}" for i in range(len(parts)))
        self.local = observation == "local"
        self.multi = None
        if self.local:
            from gymnasium_robotics.envs.multiagent_mujoco.mujoco_multi import MultiAgentMujocoEnv

            self.multi = MultiAgentMujocoEnv(
                scenario,
                agent_conf,
                agent_obsk=agent_obsk,
                agent_factorization=factorization,
                gym_env=self.sim,
            )
            self._action_index = [np.array([node.act_ids for node in part], np.int64) for part in parts]
        else:  # upstream: consecutive slices of the partition's sizes
            ends = np.cumsum([len(part) for part in parts])
            self._action_index = [
                np.arange(end - len(part), end) for end, part in zip(ends, parts, strict=True)
            ]
        self._action_size = int(self.sim.action_space.shape[0])
        if sorted(np.concatenate(self._action_index).tolist()) != list(range(self._action_size)):
            raise ValueError(
                f"partition {agent_conf!r} does not cover {scenario}'s {self._action_size} actuators"
            )
        self.max_episode_steps = max_episode_steps
        self._t = 0
        features = int(self.sim.observation_space.shape[0])
        n = len(agents)
        if self.local:
            obs_shapes = {a: self.multi.observation_space(a).shape for a in agents}
            state_shape = (features,)
        else:
            obs_shapes = dict.fromkeys(agents, (features + n,))
            state_shape = (features + n,)
        box = self.sim.action_space
        self.spec = CopySpec(
            agents=agents,
            observation_spaces={
                a: gym.spaces.Box(-np.inf, np.inf, obs_shapes[a], np.float32) for a in agents
            },
            action_spaces={
                a: gym.spaces.Box(box.low[i], box.high[i], (len(i),), np.float32)
                for a, i in zip(agents, self._action_index, strict=True)
            },
            state_space=gym.spaces.Box(-np.inf, np.inf, state_shape, np.float32),
            max_episode_steps=max_episode_steps,
            has_costs=True,
        )

    def reset(self, seed: int | None) -> CopyStep:
        features, _ = self.sim.reset(seed=seed)
        self._t = 0
        zero = np.zeros(len(self.spec.agents), np.float32)
        return self._copy_step(features, zero, zero.copy(), False, False)

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        action = np.empty(self._action_size)
        for agent, index in zip(self.spec.agents, self._action_index, strict=True):
            action[index] = actions[agent]
        features, reward, terminated, _, info = self.sim.step(action)
        self._t += 1
        truncated = not terminated and self._t >= self.max_episode_steps
        n = len(self.spec.agents)
        return self._copy_step(
            features,
            np.full(n, reward, np.float32),
            np.full(n, info["cost"], np.float32),  # the team cost, to every agent (as upstream)
            bool(terminated),
            truncated,
        )

    def observe(self, features: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every agent's observation and the global state for the robot's feature vector."""
        if self.local:
            obs = {a: np.asarray(o, np.float32) for a, o in self.multi._get_obs().items()}
            return obs, features.astype(np.float32)
        rows = zscored_with_ids(features, len(self.spec.agents)).astype(np.float32)
        # upstream's per-agent states equal the observations; the suite has one state: agent 0's
        return dict(zip(self.spec.agents, rows, strict=True)), rows[0].copy()

    def render(self) -> np.ndarray:
        if self.sim.render_mode is None:
            raise RuntimeError("make the task with render_mode='rgb_array' to render frames")
        return self.sim.render()

    def close(self) -> None:
        self.sim.close()

    def _copy_step(
        self, features: np.ndarray, reward: np.ndarray, cost: np.ndarray, terminated: bool, truncated: bool
    ) -> CopyStep:
        obs, state = self.observe(features)
        return CopyStep(
            obs=obs, state=state, reward=reward, cost=cost, terminated=terminated, truncated=truncated
        )


def make_macpo(
    *,
    robot: str,
    agent_conf: str,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "sync",
    observation: str = "upstream",
    agent_obsk: int = 1,
    fix_wall_slicing: bool = False,
    max_episode_steps: int = EPISODE_STEPS,
    render_mode: str | None = None,
    width: int = 480,
    height: int = 480,
    metadata: Mapping[str, Any] | None = None,
) -> VectorEnv:
    """`num_envs` copies of a MACPO obstacle scene split as `agent_conf`.

    `observation`: "upstream" (MACPO's) or "local" (`mamujoco_v1`'s, see the module doc);
    `agent_obsk` only matters for "local" (upstream's flag does not change its
    observations either); `fix_wall_slicing` (ManyAgent Ant only) observes and
    reset-noises the whole robot instead of upstream's six-wall slicing.
    """
    robot_spec, _ = resolve(robot, agent_conf)  # bad names fail here, before any worker starts
    scenario = robot_spec.scenario
    if scenario not in SCENES:
        raise ValueError(f"no MACPO obstacle scene for {robot!r}; scenes: {', '.join(SCENES)}")
    if observation not in OBSERVATIONS:
        raise ValueError(f"observation must be one of {list(OBSERVATIONS)}, got {observation!r}")
    check_copy_options(agent_obsk, render_mode)
    if not isinstance(fix_wall_slicing, bool):
        raise ValueError(f"fix_wall_slicing must be True or False, got {fix_wall_slicing!r}")
    if fix_wall_slicing and scenario != "ManySegmentAnt":
        raise ValueError("fix_wall_slicing only applies to the ManyAgent Ant (its upstream slicing bug)")
    if scenario == "ManySegmentAnt" and not MANY_SEGMENT.match(agent_conf):
        raise ValueError(f"invalid partition {agent_conf!r} for ManySegmentAnt; use 'NxM'")
    if not isinstance(max_episode_steps, int) or max_episode_steps < 1:
        raise ValueError(f"max_episode_steps must be a positive integer, got {max_episode_steps!r}")

    def make_copy() -> MacpoCopy:
        return MacpoCopy(
            robot,
            agent_conf,
            observation=observation,
            agent_obsk=agent_obsk,
            fix_wall_slicing=fix_wall_slicing,
            max_episode_steps=max_episode_steps,
            render_mode=render_mode,
            width=width,
            height=height,
        )

    scene = SCENES[scenario]
    info = {
        "robot": scenario,
        "agent_conf": agent_conf,
        "observation": observation,
        "agent_obsk": agent_obsk,
        "render_modes": ("rgb_array",),
        "control_dt": scene.control_dt,
        "constraint": scene.kind,
        **scene.describe,
        **dict(metadata or {}),
    }
    return VectorEnv(
        [make_copy] * num_envs,
        name=f"mamujoco/{scenario}-{agent_conf}",
        family="mamujoco",
        vector=vector,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        metadata=info,
    )
