"""`BiDexHandsEnv`: a task on a physics backend behind the suite's batched multi-agent API.

Agents partition the two hands' parts (Bi-DexHands' agent_index; by default one agent per hand,
`hand0` being the one Bi-DexHands calls the right hand). Every agent of a hand observes that
hand's block and the task's block; the global state is both hand blocks then the task block;
all of it is clipped to +-5 as upstream's multi-agent wrapper does (hand_base/multi_vec_task.py).
Reward and done are the team's.

Hand block (187 values for a fixed base, 199 for a moving one, as upstream's num_hand_obs):
  24 joint positions scaled to [-1, 1] by their limits | 24 joint velocities x 0.2 |
  24 joint forces x 10 | 5 fingertips (distal bodies) x (pos 3, quat 4, linvel 3, angvel 3) |
  5 fingertips x (force 3, torque 3) x 10 | moving base only: hand position 3 (its root, or its
  palm point in LiftUnderarm and the door tasks) and root rotation as xyz Euler 3 |
  the hand's last action (20, or 26 with a moving base).

Actions are clipped to [-1, 1]; see `bidexhands.control` for what they do: absolute joint targets
for fingers and wrist, and for a moving base a world force and torque on a free, damped hand.
Every quaternion in an observation is in Isaac Gym's (x, y, z, w) order, as upstream's
observation layout has it (MuJoCo's own (w, x, y, z) stays inside the code). Info carries `success` (1/0 at the end of an episode,
NaN elsewhere). A safe task (`task.safety`, see `bidexhands.safety`) also gives every agent the
team's cost of the step's action, and info `episode_cost`.
"""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import numpy as np
import torch

from bidexhands.assets import FINGERTIP_SITES
from bidexhands.control import (
    AGENT_SPLITS,
    CLIP_ACTIONS,
    CLIP_OBSERVATIONS,
    PART_NAMES,
    BaseControl,
    check_agent_index,
    part_dims,
)
from bidexhands.physics import Readings, default_backend, make_physics
from bidexhands.rotations import euler_xyz
from bidexhands.scene import HAND_PREFIXES, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Task
from envs.core import MultiAgentEnv
from envs.episodes import EpisodeStats
from envs.spec import EnvSpec
from envs.timestep import TimeStep

AGENTS = ("hand0", "hand1")
VEL_SCALE = 0.2
FORCE_SCALE = 10.0


class BiDexHandsEnv(MultiAgentEnv):
    """`num_envs` copies of a two-hand task, stepped at 60 Hz on the `mujoco` or `warp` backend."""

    def __init__(
        self,
        task: Task,
        *,
        num_envs: int = 1,
        device: str | torch.device = "cpu",
        seed: int | None = None,
        validate_actions: bool = True,
        backend: str | None = None,
        substeps: int = 2,
        num_threads: int | None = None,
        agent_split: str = "hand",
        agent_index=None,
    ):
        device = torch.device(device)
        if agent_split not in AGENT_SPLITS:
            raise ValueError(f"agent_split must be one of {tuple(AGENT_SPLITS)}, got {agent_split!r}")
        if agent_index is not None and agent_split != "hand":
            raise ValueError("give agent_split or agent_index, not both")
        partition = check_agent_index(AGENT_SPLITS[agent_split] if agent_index is None else agent_index)
        if not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
        backend = default_backend(device) if backend is None else backend
        builder = SceneBuilder(task.mounts, substeps=substeps)
        task.build(builder)
        scene = builder.compile()
        self.task, self.scene = task, scene
        self.physics = make_physics(backend, scene.model, num_envs, substeps, device, num_threads)
        task.bind(scene, num_envs, device)
        self.safety = task.safety
        self.stats = EpisodeStats(num_envs, device, with_cost=self.safety is not None)
        self._moving = len(scene.hands[0].base_dof) > 0
        self.base_control = self._base_control(task) if self._moving else None
        self._index(scene, device)

        n_act = [20 + len(h.base_dof) for h in scene.hands]
        hand_dim = [24 * 3 + 65 + 30 + (6 if self._moving else 0) + n for n in n_act]
        shared = task.shared_obs_dim
        box = lambda n: gym.spaces.Box(-np.inf, np.inf, (n,), np.float32)  # noqa: E731
        # each agent: (its hand, the hand's action dimensions it controls)
        self.parts = self._split(partition, self._moving)
        self.agents = tuple(self.parts)
        self._one_agent_per_hand = all(len(agents) == 1 for agents in partition) and all(
            dims == list(range(n_act[0])) for _, dims in self.parts.values()
        )
        spec = EnvSpec(
            name=f"bidexhands/{task.name}",
            family="bidexhands",
            backend=backend,
            agents=self.agents,
            observation_spaces={a: box(hand_dim[h] + shared) for a, (h, _) in self.parts.items()},
            action_spaces={
                a: gym.spaces.Box(-1.0, 1.0, (len(dims),), np.float32) for a, (_, dims) in self.parts.items()
            },
            state_space=box(sum(hand_dim) + shared),
            num_envs=num_envs,
            device=device,
            max_episode_steps=task.max_episode_steps,
            has_costs=self.safety is not None,
            info_keys=(*self.stats.keys, "success"),
            metadata={
                "control_dt": scene.control_dt,
                "substeps": substeps,
                "agent_split": agent_split if agent_index is None else None,
                "agent_index": [[list(agent) for agent in agents] for agents in partition],
                "clip_observations": CLIP_OBSERVATIONS,
                "render_modes": ("rgb_array",),
                **self._cost_metadata(),
            },
        )
        super().__init__(spec, seed=seed, validate_actions=validate_actions)
        self.generator = torch.Generator()
        self.t = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.succeeded = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self.prev_actions = torch.zeros(num_envs, 2, n_act[0], device=device)  # (copy, hand, action)
        self._nan = torch.full((num_envs,), float("nan"), device=device)
        self._renderer = None

    @staticmethod
    def _split(partition, moving: bool) -> dict[str, tuple[int, list[int]]]:
        """Agent name -> (hand, its action dimensions within the hand, in its parts' order)."""
        dims, parts = part_dims(moving), {}
        for h, agents in enumerate(partition):
            for agent in agents:
                whole = len(agents) == 1 and list(agent) == list(range(6))
                name = AGENTS[h] if whole else f"{AGENTS[h]}_" + "_".join(PART_NAMES[p] for p in agent)
                parts[name] = (h, [d for p in agent for d in dims[p]])
        return parts

    def _cost_metadata(self) -> dict:
        """A safe task's cost limit with its source, and the cost's definition (baselines read
        `cost_limit` as their default constraint)."""
        if self.safety is None:
            return {}
        return {
            "cost_limit": self.safety.limit,
            "cost_limit_source": self.safety.limit_source,
            "cost_definition": self.safety.describe(),
            "cost_source": self.safety.source,
        }

    def _team_cost(self, value: torch.Tensor) -> dict[str, torch.Tensor] | None:
        """Upstream hands the one team cost to every agent."""
        if self.safety is None:
            return None
        return {a: value.clone() for a in self.agents}

    @staticmethod
    def _base_control(task: Task) -> BaseControl:
        """The moving base's force/torque scales, from the task's published cfg."""
        cfg = task.cfg
        if cfg.transition_scale is None or cfg.orientation_scale is None:
            raise ValueError(f"{task.name} has moving bases but its cfg has no transition/orientation scale")
        return BaseControl(cfg.transition_scale, cfg.orientation_scale, task.hand_point)

    # -- indices ---------------------------------------------------------------------------
    def _index(self, scene: Scene, device: torch.device) -> None:
        """(2, k) index tensors: both hands are read with one gather per quantity."""
        model = scene.model
        hands = scene.hands
        if len({len(h.base_dof) for h in hands}) != 1:
            raise ValueError("both hands of a task must have fixed bases, or both moving ones")
        long = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.long, device=device)  # noqa: E731
        flt = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)  # noqa: E731
        self._qpos_idx = long([h.qpos for h in hands])
        self._dof_idx = long([h.dof for h in hands])
        self._low = flt([h.joint_low for h in hands])
        self._high = flt([h.joint_high for h in hands])
        self._act_idx = long([h.actuators for h in hands])
        self._ctrl_low = flt([h.ctrl_low for h in hands])
        self._ctrl_high = flt([h.ctrl_high for h in hands])
        self._force_bodies = np.array([h.force_body for h in hands])
        self._mount_pos = flt([h.mount_pos for h in hands])
        # the joint each finger actuator drives, as a qpos address (reset ctrl = joint position)
        self._act_qpos = long([model.jnt_qposadr[model.actuator_trnid[h.actuators, 0]] for h in hands])

        def sensor(name: str) -> list[int]:
            sl = scene.sensors[name]
            return list(range(sl.start, sl.stop))

        def xyzw(wxyz: list[int]) -> list[int]:
            return wxyz[1:] + wxyz[:1]

        rows = []
        for prefix in HAND_PREFIXES:
            tips = [f"{prefix}robot0:{t}" for t in FINGERTIP_SITES]
            # a fingertip's quaternion is read as (x, y, z, w), Isaac Gym's order in upstream's obs
            state = [
                i
                for t in tips
                for i in sensor(f"{t}_pos")
                + xyzw(sensor(f"{t}_quat"))
                + sensor(f"{t}_linvel")
                + sensor(f"{t}_angvel")
            ]
            ft = [i for t in tips for s in ("force", "torque") for i in sensor(f"{t}_{s}")]
            mount = sensor(f"{prefix}mount_pos") + sensor(f"{prefix}mount_quat")
            # upstream observes the root position (catch tasks) or, in LiftUnderarm and the door
            # tasks, the palm point right_hand_pos/left_hand_pos: palm body + R (0, -0.02, 0.08)
            palm = self.base_control is not None and self.base_control.pose_body == "palm"
            pose = sensor(f"{prefix}palm_pos" if palm else f"{prefix}mount_pos")
            rows.append(state + ft + mount + sensor(f"{prefix}palm_pos") + pose)
        # per hand: 65 tip states | 30 tip force/torque | 7 mount (quat wxyz) | 3 palm centre |
        # 3 observed position
        self._sensor_idx = long(rows)
        self._nq, self._nv, self._nu = model.nq, model.nv, model.nu
        self._qpos0 = flt(model.qpos0)

    # -- observation -----------------------------------------------------------------------
    def _hand_blocks(self, r: Readings, fresh: torch.Tensor | None) -> torch.Tensor:
        """(N, 2, hand_dim): both hands' blocks."""
        q = r.qpos[:, self._qpos_idx]
        pos = 2.0 * (q - self._low) / (self._high - self._low) - 1.0
        vel = VEL_SCALE * r.qvel[:, self._dof_idx]
        force = FORCE_SCALE * r.qfrc_actuator[:, self._dof_idx]
        sensed = r.sensordata[:, self._sensor_idx]
        tip_ft = FORCE_SCALE * sensed[..., 65:95]
        if fresh is not None:
            # acceleration-stage readings of a copy that was just reset are not measured yet
            keep = (~fresh).to(force.dtype).view(-1, 1, 1)
            force, tip_ft = force * keep, tip_ft * keep
        parts = [pos, vel, force, sensed[..., :65], tip_ft]
        if self._moving:
            parts += [sensed[..., 105:108], euler_xyz(sensed[..., 98:102])]
        blocks = torch.cat((*parts, self.prev_actions), dim=-1)
        return blocks.clamp_(-CLIP_OBSERVATIONS, CLIP_OBSERVATIONS)

    def _observe(
        self, r: Readings, fresh: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        blocks = self._hand_blocks(r, fresh)
        shared = self.task.shared_obs(r).clamp(-CLIP_OBSERVATIONS, CLIP_OBSERVATIONS)
        hands = [torch.cat((blocks[:, i], shared), dim=1) for i in range(len(AGENTS))]
        if self._one_agent_per_hand:
            obs = {a: hands[h] for a, (h, _) in self.parts.items()}
        else:  # several agents see one hand: each gets its own tensor
            obs = {a: hands[h].clone() for a, (h, _) in self.parts.items()}
        return obs, torch.cat((blocks.flatten(1), shared), dim=1)

    def hand_state(self, r: Readings) -> HandState:
        return HandState(r.sensordata, self._sensor_idx, self._mount_pos, self.prev_actions)

    # -- reset and step --------------------------------------------------------------------
    def _reset_copies(self, ids: torch.Tensor, previous: torch.Tensor | None = None) -> None:
        """Start new episodes in copies `ids`; `previous` (autoreset): their last qpos."""
        k, device = len(ids), self.spec.device
        qpos = self._qpos0.expand(k, -1).clone()
        ctrl = torch.zeros(k, self._nu, device=device)
        # Bi-DexHands' reset: noise * (lower + (upper - lower) * r), r ~ U(-1, 1) per joint, the same
        # draw for both hands, no J0/J1 coupling. Upstream writes it unclamped and PhysX's limits
        # hold the joint at its range from the first step; MuJoCo's soft limits would push it back
        # over several steps, so we start it where PhysX holds it.
        r = 2.0 * torch.rand((k, 1, 24), generator=self.generator).to(device) - 1.0
        joints = torch.clamp(
            self.task.dof_noise * (self._low + (self._high - self._low) * r), self._low, self._high
        )
        qpos[:, self._qpos_idx.flatten()] = joints.flatten(1)
        self.task.reset(ids, qpos, self.generator)
        if previous is not None:
            self.task.carry_over(qpos, previous)
        ctrl[:, self._act_idx.flatten()] = qpos[:, self._act_qpos.flatten()]
        self.physics.set_state(ids, qpos, torch.zeros(k, self._nv, device=device), ctrl)
        self.t[ids] = 0
        self.succeeded[ids] = False
        self.prev_actions[ids] = 0.0

    def _reset(self, seed: int | None) -> TimeStep:
        if seed is not None:
            self.generator.manual_seed(seed)
        n, device = self.spec.num_envs, self.spec.device
        self._reset_copies(torch.arange(n, device=device))
        obs, state = self._observe(self.physics.read(), torch.ones(n, dtype=torch.bool, device=device))
        no = torch.zeros(n, dtype=torch.bool, device=device)
        zero = torch.zeros(n, device=device)
        info = self.stats.reset()
        info["success"] = self._nan.clone()
        return TimeStep(
            obs=obs,
            state=state,
            reward={a: zero.clone() for a in self.agents},
            cost=self._team_cost(zero),
            terminated=no,
            truncated=no.clone(),
            final_obs=obs,
            final_state=state,
            info=info,
        )

    def _hand_actions(self, actions: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(N, 2, n_act): the agents' actions assembled per hand."""
        if self._one_agent_per_hand:
            return torch.stack([actions[agent] for agent in AGENTS], dim=1)
        a = torch.zeros_like(self.prev_actions)
        for agent, (h, dims) in self.parts.items():
            a[:, h, dims] = actions[agent].to(a.dtype)
        return a

    def _targets(self, actions: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Joint targets into ctrl; a moving base's force and torque into the physics."""
        a = self._hand_actions(actions).to(self.spec.device, torch.float32)
        a = torch.clamp(a, -CLIP_ACTIONS, CLIP_ACTIONS)
        self.prev_actions = a
        ctrl = torch.zeros(self.spec.num_envs, self._nu, device=self.spec.device)
        # as in Bi-DexHands, a moving base takes the first 6 dimensions (force, torque)
        fingers = a[..., 6:] if self._moving else a
        # upstream's scale() onto the joint limits (the servos' ctrlrange equals them); its
        # moving average has weight 1 in every task and its result lies within the limits
        targets = self._ctrl_low + 0.5 * (fingers + 1.0) * (self._ctrl_high - self._ctrl_low)
        ctrl[:, self._act_idx.flatten()] = targets.flatten(1)
        if self._moving:
            self.physics.apply_wrench(self._force_bodies, self.base_control.wrench(a[..., :6]))
        return ctrl

    def _step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep:
        self.physics.step(self._targets(actions))
        self.t += 1
        readings = self.physics.read()
        outcome = self.task.evaluate(readings, self.hand_state(readings))
        self.succeeded |= outcome.success
        terminated = outcome.terminated
        truncated = (self.t >= self.spec.max_episode_steps) & ~terminated
        done = terminated | truncated
        final_obs, final_state = self._observe(readings, None)
        reward = {a: outcome.reward for a in self.agents}
        # the cost of the action just applied (clamped, as upstream's compute_cost reads it)
        cost = self._team_cost(self.safety(self.prev_actions)) if self.safety is not None else None
        info = self.stats.update(reward, done, cost)
        info["success"] = torch.where(done, self.succeeded.float(), self._nan)
        obs, state = final_obs, final_state
        if bool(done.any()):
            ids = torch.nonzero(done).flatten()
            self._reset_copies(ids, previous=readings.qpos[ids])
            new_obs, new_state = self._observe(self.physics.read(), done)
            rows = done.unsqueeze(1)
            obs = {a: torch.where(rows, new_obs[a], final_obs[a]) for a in self.agents}
            state = torch.where(rows, new_state, final_state)
        return TimeStep(
            obs=obs,
            state=state,
            reward={a: r.clone() for a, r in reward.items()},
            cost=cost,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            final_state=final_state,
            info=info,
        )

    # -- rendering -------------------------------------------------------------------------
    def render(
        self, world: int = 0, *, width: int = 640, height: int = 480, camera: str | int = -1
    ) -> np.ndarray:
        """An RGB image (height, width, 3) of copy `world`, rendered offscreen with MuJoCo."""
        from bidexhands.render import render_world

        return render_world(self, world, width=width, height=height, camera=camera)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.physics.close()


def scene_of(task: Task, substeps: int = 2) -> Scene:
    """The compiled scene of a task, without an env (benchmarks, tests)."""
    builder = SceneBuilder(task.mounts, substeps=substeps)
    task.build(builder)
    return builder.compile()
