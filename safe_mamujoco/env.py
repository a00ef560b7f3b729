"""One MaMuJoCo robot (optionally with a constraint) as a suite `CopyEnv`, and its factory.

The agents' partition and observations are Gymnasium-Robotics' `mamujoco_v1`; the
step runs the unwrapped MuJoCo env directly. Each agent's observation is gathered
from the global observation with an index map built from `mamujoco_v1`'s own graph
walk (`observations.py`), which gives the same numbers as the per-step walk (checked
once per copy on the first reset) at a fraction of the cost.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from envs.vector.copy import CopySpec, CopyStep
from envs.vector.env import VectorEnv
from safe_mamujoco.constraints import Constraint
from safe_mamujoco.observations import build_observation_index
from safe_mamujoco.robots import resolve
from safe_mamujoco.simulator import build_single_agent_env

EPISODE_STEPS = 1000


def check_copy_options(agent_obsk: int, render_mode: str | None) -> None:
    """Options every MaMuJoCo factory takes, checked before any worker starts."""
    if not isinstance(agent_obsk, int) or agent_obsk < 0:
        raise ValueError(f"agent_obsk must be an integer >= 0, got {agent_obsk!r}")
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")


class MaMuJoCoCopy:
    """One copy: a robot split into agents, team reward, and a cost if constrained."""

    def __init__(
        self,
        robot: str,
        agent_conf: str,
        *,
        agent_obsk: int = 1,
        constraint: Constraint | None = None,
        max_episode_steps: int = EPISODE_STEPS,
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
        gym_kwargs: Mapping[str, Any] | None = None,
    ):
        from gymnasium_robotics.envs.multiagent_mujoco.mujoco_multi import MultiAgentMujocoEnv

        robot_spec, factorization = resolve(robot, agent_conf)
        scenario = robot_spec.scenario
        if render_mode is not None:
            os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen without a display
        self.constraint = copy.deepcopy(constraint)
        self.sim = build_single_agent_env(
            scenario,
            agent_conf,
            self.constraint,
            render_mode=render_mode,
            width=width,
            height=height,
            **dict(gym_kwargs or {}),
        )
        if scenario == "CoupledHalfCheetah":
            from safe_mamujoco.coupled import coupled_factorization

            factorization = coupled_factorization(self.sim, agent_conf)
        self.multi = MultiAgentMujocoEnv(
            scenario, agent_conf, agent_obsk=agent_obsk, agent_factorization=factorization, gym_env=self.sim
        )
        agents = tuple(self.multi.possible_agents)
        self._num_agents = len(agents)
        self._action_index = [
            np.array([node.act_ids for node in part], dtype=np.int64)
            for part in self.multi.agent_action_partitions
        ]
        self._action_size = int(self.sim.action_space.shape[0])
        # Most partitions hand out the actuators in order: then one concatenate builds the action.
        order = np.concatenate(self._action_index)
        self._actions_in_order = bool(np.array_equal(order, np.arange(self._action_size)))
        self._obs_index = build_observation_index(self.multi, self.sim)  # None: walk the graph each step
        self._index_checked = False
        self.max_episode_steps = max_episode_steps
        self._t = 0
        box = self.sim.action_space
        self.spec = CopySpec(
            agents=agents,
            observation_spaces={
                a: gym.spaces.Box(-np.inf, np.inf, self.multi.observation_space(a).shape, np.float32)
                for a in agents
            },
            action_spaces={
                a: gym.spaces.Box(
                    box.low[idx].astype(np.float32), box.high[idx].astype(np.float32), (len(idx),), np.float32
                )
                for a, idx in zip(agents, self._action_index, strict=True)
            },
            state_space=gym.spaces.Box(-np.inf, np.inf, self.sim.observation_space.shape, np.float32),
            max_episode_steps=max_episode_steps,
            has_costs=self.constraint is not None,
        )
        self._zero_cost = np.zeros(len(agents), np.float32) if self.constraint is not None else None

    def reset(self, seed: int | None) -> CopyStep:
        state, _ = self.sim.reset(seed=seed)
        self._t = 0
        if self.constraint is not None:
            self.constraint.reset(self.sim)
        if not self._index_checked:
            self._check_index_map(state)
        n = len(self.spec.agents)
        return self._copy_step(state, np.zeros(n, np.float32), self._zero_cost, False, False)

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        agents = self.spec.agents
        if self._actions_in_order:
            action = np.concatenate([actions[a] for a in agents], dtype=np.float64)
        else:
            action = np.empty(self._action_size)
            for agent, index in zip(agents, self._action_index, strict=True):
                action[index] = actions[agent]
        constraint = self.constraint
        if constraint is not None:
            constraint.before_step(self.sim)
        state, reward, terminated, _, info = self.sim.step(action)
        self._t += 1
        truncated = not terminated and self._t >= self.max_episode_steps
        n = self._num_agents
        cost = None
        if constraint is not None:
            cost = np.array([constraint.cost(self.sim, info)] * n, np.float32)
        return self._copy_step(state, np.array([reward] * n, np.float32), cost, bool(terminated), truncated)

    def render(self) -> np.ndarray:
        if self.sim.render_mode is None:
            raise RuntimeError("make the task with render_mode='rgb_array' to render frames")
        if self.sim.model.nmocap:  # obstacles moved after the last physics step
            import mujoco

            mujoco.mj_kinematics(self.sim.model, self.sim.data)
        return self.sim.render()

    def close(self) -> None:
        self.sim.close()

    def _copy_step(
        self,
        state: np.ndarray,
        reward: np.ndarray,
        cost: np.ndarray | None,
        terminated: bool,
        truncated: bool,
    ) -> CopyStep:
        state32 = state.astype(np.float32)
        if self._obs_index is not None:
            obs = self._obs_index.gather(state32, self.sim.data)
        else:
            obs = {a: o.astype(np.float32) for a, o in self.multi._get_obs().items()}
        return CopyStep(
            obs=obs, state=state32, reward=reward, cost=cost, terminated=terminated, truncated=truncated
        )

    def _check_index_map(self, state: np.ndarray) -> None:
        """Keep the index map only if it reproduces `mamujoco_v1`'s own observations."""
        self._index_checked = True
        if self._obs_index is None:
            return
        walked = self.multi._get_obs()
        gathered = self._obs_index.gather(state, self.sim.data)
        if not all(np.array_equal(walked[a], gathered[a]) for a in self.spec.agents):
            self._obs_index = None


def make_mamujoco(
    *,
    robot: str,
    agent_conf: str,
    num_envs: int = 1,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    vector: str = "sync",
    agent_obsk: int = 1,
    max_episode_steps: int = EPISODE_STEPS,
    constraint: Constraint | None = None,
    render_mode: str | None = None,
    width: int = 480,
    height: int = 480,
    metadata: Mapping[str, Any] | None = None,
    **gym_kwargs: Any,
) -> VectorEnv:
    """`num_envs` copies of a MaMuJoCo robot; `gym_kwargs` go to the Gymnasium `<Robot>-v5` env."""
    robot_spec, _ = resolve(robot, agent_conf)  # bad names fail here, before any worker starts
    check_copy_options(agent_obsk, render_mode)

    def make_copy() -> MaMuJoCoCopy:
        return MaMuJoCoCopy(
            robot,
            agent_conf,
            agent_obsk=agent_obsk,
            constraint=constraint,
            max_episode_steps=max_episode_steps,
            render_mode=render_mode,
            width=width,
            height=height,
            gym_kwargs=gym_kwargs,
        )

    info = {
        "robot": robot_spec.scenario,
        "agent_conf": agent_conf,
        "agent_obsk": agent_obsk,
        "render_modes": ("rgb_array",),
        **(constraint.describe() if constraint is not None else {}),
        **dict(metadata or {}),
    }
    return VectorEnv(
        [make_copy] * num_envs,
        name=f"mamujoco/{robot_spec.scenario}-{agent_conf}",
        family="mamujoco",
        vector=vector,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
        metadata=info,
    )
