"""`VectorEnv`: the suite API over N single-copy simulators (in-process or subprocesses)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from math import nan

import numpy as np
import torch

from envs.core import MultiAgentEnv
from envs.spec import EnvSpec
from envs.timestep import TimeStep
from envs.vector.copy import CopyEnv, CopySpec, CopyStep
from envs.vector.subproc import SubprocVector
from envs.vector.sync import SyncVector

VECTORS = ("sync", "subproc")


class VectorEnv(MultiAgentEnv):
    """Batches `len(env_fns)` copies; copy i is seeded with `seed + i`.

    `vector="sync"` steps the copies in this process, `vector="subproc"` in one worker
    process each. Both run the same per-copy code, so the same seed gives the same
    numbers with either.
    """

    def __init__(
        self,
        env_fns: Sequence[Callable[[], CopyEnv]],
        *,
        name: str,
        family: str,
        vector: str = "sync",
        device: str | torch.device = "cpu",
        seed: int | None = None,
        validate_actions: bool = True,
        metadata: Mapping[str, object] | None = None,
    ):
        if vector not in VECTORS:
            raise ValueError(f"unknown vector {vector!r}; choose one of {list(VECTORS)}")
        if len(env_fns) < 1:
            raise ValueError("num_envs must be >= 1")
        self._vector = SyncVector(env_fns) if vector == "sync" else SubprocVector(env_fns)
        cs: CopySpec = self._vector.spec
        spec = EnvSpec(
            name=name,
            family=family,
            backend=vector,
            agents=cs.agents,
            observation_spaces=dict(cs.observation_spaces),
            action_spaces=dict(cs.action_spaces),
            state_space=cs.state_space,
            num_envs=len(env_fns),
            device=torch.device(device),
            max_episode_steps=cs.max_episode_steps,
            has_costs=cs.has_costs,
            has_action_masks=cs.has_action_masks,
            info_keys=cs.all_info_keys,
            metadata=dict(metadata or {}),
        )
        super().__init__(spec, seed=seed, validate_actions=validate_actions)
        # for `_collate_one`: each agent's and info key's one-element slice of a per-copy row
        self._agent_slices = [(a, slice(i, i + 1)) for i, a in enumerate(spec.agents)]
        self._info_slices = [(k, slice(i, i + 1)) for i, k in enumerate(spec.info_keys)]
        self._nan_info_row = np.full(len(spec.info_keys), nan, np.float32)

    def _reset(self, seed: int | None) -> TimeStep:
        n = self.spec.num_envs
        seeds = [None] * n if seed is None else [seed + i for i in range(n)]
        return self._collate(self._vector.reset(seeds))

    def _step(self, actions: Mapping[str, torch.Tensor]) -> TimeStep:
        agents = self.spec.agents
        if self.spec.num_envs == 1:
            per_copy = [{a: _to_numpy(actions[a])[0] for a in agents}]
        else:
            arrays = {a: _to_numpy(actions[a]) for a in agents}
            per_copy = [{a: x[i] for a, x in arrays.items()} for i in range(self.spec.num_envs)]
        return self._collate(self._vector.step(per_copy))

    def render(self, index: int = 0) -> np.ndarray:
        """An RGB frame (height, width, 3) of copy `index`, for tasks made to render."""
        if not 0 <= index < self.spec.num_envs:
            raise IndexError(f"copy index {index} out of range for num_envs={self.spec.num_envs}")
        return self._vector.render(index)

    def close(self) -> None:
        self._vector.close()

    def _collate(self, steps: list[CopyStep]) -> TimeStep:
        """Stack per-copy numpy results into batched tensors on the env's device.

        Copies hand over arrays they no longer touch (the `CopyEnv` contract), so a
        batch of one is a view rather than a copy: at one copy of a fast simulator
        this hand-off is most of the suite's overhead.
        """
        spec = self.spec
        agents = spec.agents
        one = len(steps) == 1
        to_device = spec.device.type != "cpu"
        if one and not to_device:
            return self._collate_one(steps[0])

        def tensor(arrays: list[np.ndarray]) -> torch.Tensor:
            # np.array stacks equal-shaped arrays in C, several times faster than np.stack
            t = torch.from_numpy(arrays[0][None] if one else np.array(arrays))
            return t.to(spec.device) if to_device else t

        obs = {a: tensor([s.obs[a] for s in steps]) for a in agents}
        state = tensor([s.state for s in steps])
        ended = [s.final_obs is not None for s in steps]
        if any(ended):
            final_obs = {
                a: tensor([s.final_obs[a] if e else s.obs[a] for s, e in zip(steps, ended, strict=False)])
                for a in agents
            }
            final_state = tensor(
                [s.final_state if e else s.state for s, e in zip(steps, ended, strict=False)]
            )
        else:
            final_obs, final_state = obs, state

        def columns(table: np.ndarray, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
            """One (num_envs,) tensor per row of a (columns, num_envs) table."""
            if to_device:
                return dict(zip(names, torch.from_numpy(table).to(spec.device).unbind(0), strict=True))
            return {name: torch.from_numpy(table[i]) for i, name in enumerate(names)}

        def per_agent(rows: list[np.ndarray]) -> dict[str, torch.Tensor]:
            """Per-agent rewards or costs from each copy's row of them."""
            return columns(np.ascontiguousarray(np.array(rows).T), agents)

        reward = per_agent([s.reward for s in steps])
        cost = per_agent([s.cost for s in steps]) if spec.has_costs else None
        mask = final_mask = None
        if spec.has_action_masks:
            mask = {a: tensor([s.action_mask[a] for s in steps]) for a in agents}
            final_mask = mask
            if any(ended):
                final_mask = {
                    a: tensor(
                        [
                            s.final_action_mask[a] if e else s.action_mask[a]
                            for s, e in zip(steps, ended, strict=True)
                        ]
                    )
                    for a in agents
                }
        terminated = torch.from_numpy(np.array([s.terminated for s in steps]))
        truncated = torch.from_numpy(np.array([s.truncated for s in steps]))
        if to_device:
            terminated, truncated = terminated.to(spec.device), truncated.to(spec.device)
        keys = spec.info_keys
        if any(s.info for s in steps):
            rows = [[s.info.get(k, nan) for k in keys] for s in steps]
            table = np.ascontiguousarray(np.array(rows, np.float32).T)
        else:  # most steps: nothing to report
            table = np.full((len(keys), len(steps)), nan, np.float32)
        info = columns(table, keys)
        return TimeStep(
            obs=obs,
            state=state,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            final_state=final_state,
            cost=cost,
            action_mask=mask,
            info=info,
            final_action_mask=final_mask,
        )

    def _collate_one(self, step: CopyStep) -> TimeStep:
        """`_collate` for one copy on the CPU: the same tensors, built from views with the
        fewest Python calls (at one copy of a fast simulator every call shows in steps/s)."""
        from_numpy = torch.from_numpy
        obs = {a: from_numpy(o[None]) for a, o in step.obs.items()}
        state = from_numpy(step.state[None])
        if step.final_obs is None:
            final_obs, final_state = obs, state
        else:
            final_obs = {a: from_numpy(o[None]) for a, o in step.final_obs.items()}
            final_state = from_numpy(step.final_state[None])
        row = step.reward
        reward = {a: from_numpy(row[i]) for a, i in self._agent_slices}
        row = step.cost
        cost = None if row is None else {a: from_numpy(row[i]) for a, i in self._agent_slices}
        masks = step.action_mask
        mask = None if masks is None else {a: from_numpy(m[None]) for a, m in masks.items()}
        final_mask = mask
        if mask is not None and step.final_action_mask is not None:
            final_mask = {a: from_numpy(m[None]) for a, m in step.final_action_mask.items()}
        info = step.info
        if info:
            row = np.array([info.get(k, nan) for k, _ in self._info_slices], np.float32)
        else:  # most steps: nothing to report
            row = self._nan_info_row.copy()
        return TimeStep(
            obs=obs,
            state=state,
            reward=reward,
            terminated=from_numpy(np.array([step.terminated])),
            truncated=from_numpy(np.array([step.truncated])),
            final_obs=final_obs,
            final_state=final_state,
            cost=cost,
            action_mask=mask,
            info={k: from_numpy(row[i]) for k, i in self._info_slices},
            final_action_mask=final_mask,
        )


def _to_numpy(action: torch.Tensor) -> np.ndarray:
    try:
        return action.numpy()  # a CPU tensor without grad: a view, the common case
    except (RuntimeError, TypeError):
        return action.detach().cpu().numpy()
