"""`BiDexHandsEnv`: a task on a physics backend behind the suite's batched multi-agent API.

Agents are the two hands (`hand0`, `hand1`; hand0 is the one Bi-DexHands calls the right
hand). Each observes its own hand block and the task's shared object/goal block; the global
state is both hand blocks and the shared block. Reward and done are the team's.

Hand block (193 values for a fixed base, 199 for a moving one):
  24 joint positions scaled to [-1, 1] by their limits | 24 joint velocities x 0.2 |
  24 actuator joint forces x 10 | 5 fingertips x (pos 3, quat 4, linvel 3, angvel 3) |
  5 fingertips x (force 3, torque 3) x 10 | base position 3 | base rotation as xyz Euler 3 |
  previous action (20, or 26 with a moving base).

Actions in [-1, 1] map linearly onto the 20 finger/wrist position-servo ranges; a moving base
adds 6 leading dimensions (translation, rotation), position targets within +-`reach` (0.2 m;
0.5 m for LiftUnderarm) and +-0.75 rad of its mount. Quaternions are MuJoCo's (w, x, y, z).
Info carries `success` (1/0 at the end of an episode, NaN elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import numpy as np
import torch

from bidexhands.assets import FINGERTIP_SITES
from bidexhands.physics import Readings, default_backend, make_physics
from bidexhands.rotations import euler_xyz
from bidexhands.scene import HAND_PREFIXES, Scene, SceneBuilder
from bidexhands.tasks.base import HandState, Task
from envs.core import MultiAgentEnv
from envs.episodes import EpisodeStats
from envs.spec import EnvSpec
from envs.timestep import TimeStep

AGENTS = ("hand0", "hand1")
# agent_split="finger": per hand, the wrist (and a moving base) and each finger are agents,
# as Bi-DexHands' finer agent_index option; each sees its whole hand and the shared block.
FINGER_PARTS = ("wrist", "ff", "mf", "rf", "lf", "th")
PART_OF_ACTUATOR = {"WR": "wrist", "FF": "ff", "MF": "mf", "RF": "rf", "LF": "lf", "TH": "th"}
AGENT_SPLITS = ("hand", "finger")
VEL_SCALE = 0.2
FORCE_SCALE = 10.0
# Distal (J0) joints follow their middle (J1) joint through a coupling tendon; at reset they start equal.
COUPLED_J1_J0 = ((4, 5), (8, 9), (12, 13), (17, 18))


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
    ):
        device = torch.device(device)
        if agent_split not in AGENT_SPLITS:
            raise ValueError(f"agent_split must be one of {AGENT_SPLITS}, got {agent_split!r}")
        if not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
        backend = default_backend(device) if backend is None else backend
        builder = SceneBuilder(task.mounts, substeps=substeps)
        task.build(builder)
        scene = builder.compile()
        self.task, self.scene = task, scene
        self.physics = make_physics(backend, scene.model, num_envs, substeps, device, num_threads)
        task.bind(scene, num_envs, device)
        self._index(scene, device)

        n_act = [20 + len(h.base_actuators) for h in scene.hands]
        hand_dim = [24 * 3 + 65 + 30 + 6 + n for n in n_act]
        shared = task.shared_obs_dim
        box = lambda n: gym.spaces.Box(-np.inf, np.inf, (n,), np.float32)  # noqa: E731
        # each agent: (its hand, the hand's action dimensions it controls)
        self.parts = self._split(scene, agent_split, n_act[0])
        self.agents = tuple(self.parts)
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
            info_keys=("episode_return", "episode_length", "success"),
            metadata={
                "control_dt": scene.control_dt,
                "substeps": substeps,
                "agent_split": agent_split,
                "render_modes": ("rgb_array",),
            },
        )
        super().__init__(spec, seed=seed, validate_actions=validate_actions)
        self.generator = torch.Generator()
        self.stats = EpisodeStats(num_envs, device)
        self.t = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.succeeded = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self.prev_actions = torch.zeros(num_envs, 2, n_act[0], device=device)  # (copy, hand, action)
        self._nan = torch.full((num_envs,), float("nan"), device=device)
        self._renderer = None

    @staticmethod
    def _split(scene: Scene, agent_split: str, n_act: int) -> dict[str, tuple[int, list[int]]]:
        if agent_split == "hand":
            return {a: (h, list(range(n_act))) for h, a in enumerate(AGENTS)}
        model, parts = scene.model, {}
        for h, hand in enumerate(scene.hands):
            base = len(hand.base_actuators)  # a moving base's 6 dimensions lead the hand's action
            groups: dict[str, list[int]] = {p: [] for p in FINGER_PARTS}
            groups["wrist"].extend(range(base))
            for k, actuator in enumerate(hand.actuators):
                joint = model.actuator(int(actuator)).name.rsplit(":A_", 1)[1]  # e.g. FFJ3
                groups[PART_OF_ACTUATOR[joint[:2]]].append(base + k)
            for p in FINGER_PARTS:
                parts[f"{AGENTS[h]}_{p}"] = (h, groups[p])
        return parts

    # -- indices ---------------------------------------------------------------------------
    def _index(self, scene: Scene, device: torch.device) -> None:
        """(2, k) index tensors: both hands are read with one gather per quantity."""
        model = scene.model
        hands = scene.hands
        if len({len(h.base_actuators) for h in hands}) != 1:
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
        self._moving = len(hands[0].base_actuators) > 0
        self._base_act_idx = long([h.base_actuators for h in hands])
        self._base_limit = flt([model.actuator_ctrlrange[h.base_actuators, 1] for h in hands])
        self._mount_pos = flt([h.mount_pos for h in hands])
        # the joint each finger actuator drives, as a qpos address (reset ctrl = joint position)
        self._act_qpos = long([model.jnt_qposadr[model.actuator_trnid[h.actuators, 0]] for h in hands])

        def sensor(name: str) -> list[int]:
            sl = scene.sensors[name]
            return list(range(sl.start, sl.stop))

        rows = []
        for prefix in HAND_PREFIXES:
            tips = [f"{prefix}robot0:{t}" for t in FINGERTIP_SITES]
            state = [i for t in tips for s in ("pos", "quat", "linvel", "angvel") for i in sensor(f"{t}_{s}")]
            ft = [i for t in tips for s in ("force", "torque") for i in sensor(f"{t}_{s}")]
            mount = sensor(f"{prefix}mount_pos") + sensor(f"{prefix}mount_quat")
            rows.append(state + ft + mount + sensor(f"{prefix}palm_pos"))
        self._sensor_idx = long(rows)  # per hand: 65 tip states | 30 tip force/torque | 7 mount | 3 palm
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
        base = torch.cat((sensed[..., 95:98], euler_xyz(sensed[..., 98:102])), dim=-1)
        return torch.cat((pos, vel, force, sensed[..., :65], tip_ft, base, self.prev_actions), dim=-1)

    def _observe(
        self, r: Readings, fresh: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        blocks = self._hand_blocks(r, fresh)
        shared = self.task.shared_obs(r)
        hands = [torch.cat((blocks[:, i], shared), dim=1) for i in range(len(AGENTS))]
        if self.spec.metadata["agent_split"] == "hand":
            obs = {a: hands[h] for a, (h, _) in self.parts.items()}
        else:  # several agents see one hand: each gets its own tensor
            obs = {a: hands[h].clone() for a, (h, _) in self.parts.items()}
        return obs, torch.cat((blocks.flatten(1), shared), dim=1)

    def hand_state(self, r: Readings) -> HandState:
        return HandState(r.sensordata, self._sensor_idx, self._mount_pos)

    # -- reset and step --------------------------------------------------------------------
    def _reset_copies(self, ids: torch.Tensor) -> None:
        k, device = len(ids), self.spec.device
        qpos = self._qpos0.expand(k, -1).clone()
        ctrl = torch.zeros(k, self._nu, device=device)
        u = torch.rand((k, 1, 24), generator=self.generator).to(device)
        # as in Bi-DexHands, both hands start from the same random joint offsets
        joints = torch.clamp(
            self.task.dof_noise * (self._low + (self._high - self._low) * u), self._low, self._high
        )
        for j1, j0 in COUPLED_J1_J0:
            joints[..., j0] = joints[..., j1]
        qpos[:, self._qpos_idx.flatten()] = joints.flatten(1)
        self.task.reset(ids, qpos, self.generator)
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
            terminated=no,
            truncated=no.clone(),
            final_obs=obs,
            final_state=state,
            info=info,
        )

    def _hand_actions(self, actions: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(N, 2, n_act): the agents' actions assembled per hand."""
        if self.spec.metadata["agent_split"] == "hand":
            return torch.stack([actions[agent] for agent in AGENTS], dim=1)
        a = torch.zeros_like(self.prev_actions)
        for agent, (h, dims) in self.parts.items():
            a[:, h, dims] = actions[agent].to(a.dtype)
        return a

    def _targets(self, actions: Mapping[str, torch.Tensor]) -> torch.Tensor:
        a = self._hand_actions(actions).to(self.spec.device, torch.float32)
        a = torch.clamp(a, -1.0, 1.0)
        self.prev_actions = a
        ctrl = torch.zeros(self.spec.num_envs, self._nu, device=self.spec.device)
        # as in Bi-DexHands, a moving base takes the first 6 dimensions (translation, rotation)
        fingers = a[..., 6:] if self._moving else a
        targets = self._ctrl_low + 0.5 * (fingers + 1.0) * (self._ctrl_high - self._ctrl_low)
        ctrl[:, self._act_idx.flatten()] = targets.flatten(1)
        if self._moving:
            ctrl[:, self._base_act_idx.flatten()] = (a[..., :6] * self._base_limit).flatten(1)
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
        info = self.stats.update(reward, done)
        info["success"] = torch.where(done, self.succeeded.float(), self._nan)
        obs, state = final_obs, final_state
        if bool(done.any()):
            self._reset_copies(torch.nonzero(done).flatten())
            new_obs, new_state = self._observe(self.physics.read(), done)
            rows = done.unsqueeze(1)
            obs = {a: torch.where(rows, new_obs[a], final_obs[a]) for a in self.agents}
            state = torch.where(rows, new_state, final_state)
        return TimeStep(
            obs=obs,
            state=state,
            reward={a: r.clone() for a, r in reward.items()},
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
