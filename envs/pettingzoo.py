"""PettingZoo adapters in both directions.

`from_pettingzoo` turns any `ParallelEnv` factory into a suite env (batched, torch,
autoreset); `to_pettingzoo` turns a one-copy suite env into a `ParallelEnv`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from pettingzoo.utils.env import ParallelEnv

from envs.core import MultiAgentEnv
from envs.spec import action_mask_size, torch_dtype
from envs.timestep import TimeStep
from envs.vector.copy import CopySpec, CopyStep
from envs.vector.env import VectorEnv

ObsDict = dict[str, Any]
STATE_SOURCES = ("auto", "env", "concat_obs")
# What `envs.make` takes to make a copy draw: PettingZoo envs fix render_mode when they are
# built and draw at their own size (`baselines.evaluate` scales the frames).
RENDER_KWARGS = ("render_mode",)


@dataclasses.dataclass(frozen=True)
class PettingZooCopySpec(CopySpec):
    """`CopySpec` plus how the `ParallelEnv` draws, for the suite spec's metadata: it comes
    back with the spec from subprocess workers, where the copies are built."""

    render_modes: tuple[str, ...] = ()  # ("rgb_array",) when the env draws RGB frames
    render_fps: float | None = None


class PettingZooCopy:
    """One `ParallelEnv` as a `CopyEnv`.

    Agents are `possible_agents`, fixed for the whole episode. An agent that has left
    the env (terminated earlier) observes zeros, gets zero reward and may only take
    action 0; the episode ends when no agent is left. Action masks are read from a
    `Dict` observation with an `"action_mask"` key or, with `action_mask_in_info`,
    from each agent's info; costs from `infos[agent][cost_key]`. The global state is
    `env.state()` (`state="env"`), the concatenated observations (`state="concat_obs"`,
    free for envs such as MPE whose `state()` is exactly that), or the former when the
    env has a `state_space` (`state="auto"`). `render()` passes the env's own `rgb_array`
    frame through; the env must have been built with `render_mode="rgb_array"`.
    """

    def __init__(
        self,
        env: ParallelEnv,
        *,
        max_episode_steps: int | None = None,
        cost_key: str | None = None,
        action_mask_in_info: bool = False,
        info_keys: tuple[str, ...] = (),
        state: str = "auto",
    ):
        if state not in STATE_SOURCES:
            raise ValueError(f"state must be one of {STATE_SOURCES}, got {state!r}")
        self.env = env
        agents = tuple(env.possible_agents)
        raw_obs = {a: env.observation_space(a) for a in agents}
        self._mask_in_obs = all(_is_masked_obs(s) for s in raw_obs.values())
        self._raw_obs_spaces = {a: s["observation"] if self._mask_in_obs else s for a, s in raw_obs.items()}
        obs_spaces = {a: _as_box(s) for a, s in self._raw_obs_spaces.items()}
        action_spaces = {a: env.action_space(a) for a in agents}
        if state == "auto":
            state = "env" if getattr(env, "state_space", None) is not None else "concat_obs"
        self._has_state = state == "env"
        if self._has_state:
            state_space = _as_box(env.state_space)
        else:
            size = sum(int(np.prod(s.shape)) for s in obs_spaces.values())
            state_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        has_masks = self._mask_in_obs or action_mask_in_info
        self._mask_in_info = action_mask_in_info
        self._cost_key = cost_key
        env_metadata = getattr(env, "metadata", None) or {}
        fps = env_metadata.get("render_fps")
        self.spec = PettingZooCopySpec(
            agents=agents,
            observation_spaces=obs_spaces,
            action_spaces=action_spaces,
            state_space=state_space,
            max_episode_steps=max_episode_steps,
            has_costs=cost_key is not None,
            has_action_masks=has_masks,
            info_keys=tuple(info_keys),
            render_modes=("rgb_array",) if "rgb_array" in env_metadata.get("render_modes", ()) else (),
            render_fps=float(fps) if isinstance(fps, int | float) and fps > 0 else None,
        )
        self._zero_obs = {a: np.zeros(s.shape, s.dtype) for a, s in obs_spaces.items()}
        self._dead_mask = {}
        if has_masks:
            for a, space in action_spaces.items():
                mask = np.zeros(action_mask_size(space), dtype=bool)
                mask[0] = True
                self._dead_mask[a] = mask
        self._discrete = {a: isinstance(s, gym.spaces.Discrete) for a, s in action_spaces.items()}
        self._all_discrete = all(self._discrete.values())
        # Box observations without masks, as MPE's: `_copy_step` copies them in one comprehension
        self._plain_obs = not has_masks and all(
            isinstance(s, gym.spaces.Box) for s in self._raw_obs_spaces.values()
        )
        self._obs_dtypes = {a: s.dtype for a, s in obs_spaces.items()}
        self._flat_obs = all(len(s.shape) == 1 for s in obs_spaces.values())
        self._alive: set[str] = set()

    def reset(self, seed: int | None) -> CopyStep:
        obs, infos = self.env.reset(seed=seed)
        self._alive = set(self.env.agents)
        n = len(self.spec.agents)
        return self._copy_step(obs, infos, np.zeros(n, np.float32), self._costs(infos), False, False)

    def step(self, actions: dict[str, np.ndarray]) -> CopyStep:
        agents = self.spec.agents
        if self._all_discrete and len(self._alive) == len(agents):  # the common case, in one pass
            env_actions = {a: int(actions[a]) for a in agents}
        else:
            env_actions = {
                a: int(actions[a]) if self._discrete[a] else actions[a] for a in agents if a in self._alive
            }
        obs, rewards, terminations, truncations, infos = self.env.step(env_actions)
        if any(terminations.values()) or any(truncations.values()):
            for agent in list(self._alive):
                if terminations.get(agent, False) or truncations.get(agent, False):
                    self._alive.discard(agent)
        ended = not self._alive
        truncated = ended and any(truncations.values())
        reward = np.array([rewards.get(a, 0.0) for a in self.spec.agents], np.float32)
        return self._copy_step(obs, infos, reward, self._costs(infos), ended and not truncated, truncated)

    def render(self) -> np.ndarray:
        """The env's own RGB frame (height, width, 3) of its current state."""
        name = type(getattr(self.env, "unwrapped", self.env)).__name__
        if not self.spec.render_modes:
            raise RuntimeError(
                f"{name} cannot draw RGB frames: its metadata['render_modes'] has no 'rgb_array'"
            )
        mode = getattr(self.env, "render_mode", None)
        if mode != "rgb_array":
            raise RuntimeError(
                f"make the task with render_mode='rgb_array' to render frames ({name} was built with "
                f"render_mode={mode!r})"
            )
        frame = np.asarray(self.env.render())
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise RuntimeError(
                f"{name}.render() returned an array of shape {frame.shape}, not (height, width, 3)"
            )
        return np.ascontiguousarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self.env.close()

    def _copy_step(
        self,
        obs: ObsDict,
        infos: ObsDict,
        reward: np.ndarray,
        cost: np.ndarray | None,
        terminated: bool,
        truncated: bool,
    ) -> CopyStep:
        agents = self.spec.agents
        if self._plain_obs and len(obs) == len(agents):  # every agent observed, no masks
            dtypes = self._obs_dtypes
            # copies: the env may reuse its buffers
            agent_obs = {a: np.array(obs[a], dtype=dtypes[a]) for a in agents}
            return self._finish_step(agent_obs, infos, reward, cost, terminated, truncated, None)
        agent_obs = {}
        masks = {} if self.spec.has_action_masks else None
        for a in agents:
            value = obs.get(a)
            if value is None:  # the agent has left the episode
                agent_obs[a] = self._zero_obs[a].copy()
                if masks is not None:
                    masks[a] = self._dead_mask[a].copy()
                continue
            if self._mask_in_obs:
                masks[a] = np.array(value["action_mask"], dtype=bool)
                value = value["observation"]
            elif masks is not None:
                masks[a] = np.array(infos[a]["action_mask"], dtype=bool)
            if masks is not None and a not in self._alive and not (terminated or truncated):
                masks[a] = self._dead_mask[
                    a
                ].copy()  # left at this step while others play on: no choice any more
            # (at the episode's end the env's own masks stay: they are its final step's, `final_action_mask`)
            agent_obs[a] = self._flatten_obs(a, value)
        return self._finish_step(agent_obs, infos, reward, cost, terminated, truncated, masks)

    def _finish_step(
        self,
        agent_obs: dict[str, np.ndarray],
        infos: ObsDict,
        reward: np.ndarray,
        cost: np.ndarray | None,
        terminated: bool,
        truncated: bool,
        masks: dict[str, np.ndarray] | None,
    ) -> CopyStep:
        """The state and info keys beside the copy's observations."""
        if self._has_state:
            state = np.array(self.env.state(), dtype=self.spec.state_space.dtype).reshape(-1)
        else:
            parts = agent_obs.values() if self._flat_obs else [o.reshape(-1) for o in agent_obs.values()]
            state = np.concatenate(list(parts))
        info = {}
        for key in self.spec.info_keys:
            values = [i[key] for i in infos.values() if key in i]
            if values:
                info[key] = float(values[0])
        return CopyStep(agent_obs, state, reward, cost, terminated, truncated, masks, info)

    def _costs(self, infos: ObsDict) -> np.ndarray | None:
        if self._cost_key is None:
            return None
        return np.array([infos.get(a, {}).get(self._cost_key, 0.0) for a in self.spec.agents], np.float32)

    def _flatten_obs(self, agent: str, value: Any) -> np.ndarray:
        space = self._raw_obs_spaces[agent]
        if isinstance(space, gym.spaces.Box):
            return np.array(value, dtype=space.dtype)  # a copy: the env may reuse its buffer
        return gym.spaces.flatten(space, value).astype(np.float32)


def _is_masked_obs(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Dict) and {"observation", "action_mask"} <= set(space.spaces)


def _as_box(space: gym.Space) -> gym.spaces.Box:
    if isinstance(space, gym.spaces.Box):
        return space
    flat = gym.spaces.flatten_space(space)
    return gym.spaces.Box(flat.low, flat.high, flat.shape, np.float32)


def _make_copy(env_fn: Callable[[], ParallelEnv], copy_kwargs: dict[str, Any]) -> PettingZooCopy:
    return PettingZooCopy(env_fn(), **copy_kwargs)


class PettingZooVectorEnv(VectorEnv):
    """A `VectorEnv` of `PettingZooCopy`s whose spec metadata says how the env draws
    (`render_modes`, `render_fps`, `render_kwargs`), read from copy 0's spec: the
    `ParallelEnv` is only built inside the copies, perhaps in worker processes."""

    def __init__(self, env_fns: list[Callable[[], PettingZooCopy]], **kwargs: Any):
        super().__init__(env_fns, **kwargs)
        copy_spec = self._vector.spec
        drawing: dict[str, Any] = {"render_modes": copy_spec.render_modes}
        if copy_spec.render_modes:
            drawing["render_kwargs"] = RENDER_KWARGS
            if copy_spec.render_fps:
                drawing["render_fps"] = copy_spec.render_fps
        self.spec = dataclasses.replace(self.spec, metadata={**drawing, **self.spec.metadata})


def from_pettingzoo(
    env_fn: Callable[[], ParallelEnv],
    *,
    num_envs: int = 1,
    device: str | torch.device = "cpu",
    vector: str = "sync",
    seed: int | None = None,
    validate_actions: bool = True,
    name: str = "pettingzoo",
    family: str = "pettingzoo",
    max_episode_steps: int | None = None,
    cost_key: str | None = None,
    action_mask_in_info: bool = False,
    info_keys: tuple[str, ...] = (),
    state: str = "auto",
) -> VectorEnv:
    """Batch `num_envs` copies of the `ParallelEnv` that `env_fn()` builds.

    `env_fn` is called once per copy (inside the worker for `vector="subproc"`, so it
    may be a lambda). Copy i is seeded with `seed + i`. The keyword arguments after
    `family` are `PettingZooCopy`'s. When the env draws RGB frames, `spec.metadata` says
    so (`render_modes`) and `env.render(i)` returns copy i's frame, provided `env_fn`
    builds the env with `render_mode="rgb_array"` (as `envs.make("mpe2/...",
    render_mode="rgb_array")` does).
    """
    if not callable(env_fn):
        raise TypeError(
            "from_pettingzoo needs a function that builds a ParallelEnv (one per copy), "
            f"got {type(env_fn).__name__}; pass e.g. `lambda: simple_spread_v3.parallel_env()`"
        )
    copy_kwargs = dict(
        max_episode_steps=max_episode_steps,
        cost_key=cost_key,
        action_mask_in_info=action_mask_in_info,
        info_keys=tuple(info_keys),
        state=state,
    )
    factory = functools.partial(_make_copy, env_fn, copy_kwargs)
    return PettingZooVectorEnv(
        [factory] * num_envs,
        name=name,
        family=family,
        vector=vector,
        device=device,
        seed=seed,
        validate_actions=validate_actions,
    )


class SuiteParallelEnv(ParallelEnv):
    """A one-copy suite env seen through PettingZoo's `ParallelEnv` API.

    For tasks with action masks, observations follow PettingZoo's convention, a dict
    `{"observation": ..., "action_mask": int8}` (so PettingZoo's samplers respect the
    mask), and the mask is also in `infos[agent]["action_mask"]`. After an episode
    ends `agents` is empty until `reset`; the suite env has already reset itself
    then, so `reset()` without a seed starts that episode instead of resetting again.
    """

    def __init__(self, env: MultiAgentEnv):
        if env.spec.num_envs != 1:
            raise ValueError(f"to_pettingzoo needs an env with num_envs=1, got {env.spec.num_envs}")
        self.env = env
        spec = env.spec
        self.possible_agents = list(spec.agents)
        self.agents: list[str] = []
        self.observation_spaces = {
            a: gym.spaces.Dict(
                {
                    "observation": s,
                    "action_mask": gym.spaces.Box(0, 1, (spec.action_mask_size(a),), np.int8),
                }
            )
            if spec.has_action_masks
            else s
            for a, s in spec.observation_spaces.items()
        }
        self.action_spaces = dict(spec.action_spaces)
        self.state_space = spec.state_space
        self.metadata = {"name": spec.name, "render_modes": [], "is_parallelizable": True}
        self.render_mode = None
        self._state: np.ndarray | None = None
        self._next_episode: TimeStep | None = None
        self._action_dtype = {a: torch_dtype(s) for a, s in self.action_spaces.items()}

    def observation_space(self, agent: str) -> gym.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is None and self._next_episode is not None:
            timestep = self._next_episode
        else:
            timestep = self.env.reset(seed=seed)
        self._next_episode = None
        self.agents = list(self.possible_agents)
        self._state = timestep.state[0].cpu().numpy()
        return self._observations(timestep.obs, timestep), self._infos(timestep)

    def step(self, actions: dict[str, Any]):
        device = self.env.spec.device
        batched = {
            a: torch.as_tensor(np.asarray(actions[a]), dtype=self._action_dtype[a], device=device)[None]
            for a in self.possible_agents
        }
        timestep = self.env.step(batched)
        obs = self._observations(timestep.final_obs, timestep, final=True)
        self._state = timestep.final_state[0].cpu().numpy()
        rewards = {a: float(r[0]) for a, r in timestep.reward.items()}
        terminated = {a: bool(timestep.terminated[0]) for a in self.agents}
        truncated = {a: bool(timestep.truncated[0]) for a in self.agents}
        infos = self._infos(timestep, final=True)
        if bool(timestep.done[0]):
            self.agents = []
            self._next_episode = timestep
        return obs, rewards, terminated, truncated, infos

    def state(self) -> np.ndarray:
        if self._state is None:
            raise RuntimeError("call reset() before state()")
        return self._state

    def close(self) -> None:
        self.env.close()

    @staticmethod
    def _masks(timestep: TimeStep, final: bool) -> dict[str, torch.Tensor] | None:
        """After a step, the masks of the step just taken (an ended episode's last ones)."""
        if final and timestep.final_action_mask is not None:
            return timestep.final_action_mask
        return timestep.action_mask

    def _observations(
        self, obs: dict[str, torch.Tensor], timestep: TimeStep, final: bool = False
    ) -> dict[str, Any]:
        first = {a: t[0].cpu().numpy() for a, t in obs.items()}
        masks = self._masks(timestep, final)
        if masks is None:
            return first
        return {
            a: {"observation": o, "action_mask": masks[a][0].cpu().numpy().astype(np.int8)}
            for a, o in first.items()
        }

    def _infos(self, timestep: TimeStep, final: bool = False) -> dict[str, dict[str, Any]]:
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.possible_agents}
        masks = self._masks(timestep, final)
        if masks is not None:
            for a, mask in masks.items():
                infos[a]["action_mask"] = mask[0].cpu().numpy()
        if timestep.cost is not None:
            for a, cost in timestep.cost.items():
                infos[a]["cost"] = float(cost[0])
        return infos


def to_pettingzoo(env: MultiAgentEnv) -> SuiteParallelEnv:
    """Wrap a one-copy suite env as a PettingZoo `ParallelEnv`."""
    return SuiteParallelEnv(env)
