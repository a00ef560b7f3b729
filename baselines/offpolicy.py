"""The off-policy loop (QMIX): the on-policy `Trainer` with its rollout swapped for episode replay.

Everything else is the `Trainer`'s: config, run directory, `progress.csv`, evaluation,
checkpoints and exact resume. An iteration steps every copy `rollout.length` times with
epsilon-greedy actions, files each finished episode into the replay buffer, then the
algorithm takes the gradient steps due for those episodes. Checkpoints (`latest.pt`) carry
the replay buffer, so a resumed run continues bit for bit. Episodes still running when the
envs are reseeded at a checkpoint are dropped (none are when `rollout.length` is a multiple
of the episode length, as in the configs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import envs
from baselines.config import RunConfig
from baselines.trainer import Trainer, TrainingError, empty_episodes


class EpisodeBuffer:
    """The last `capacity` episodes, padded to `max_length` steps (pymarl's episode batch).

    Per episode: `obs` and `state` for steps 0..L (the last is the final observation),
    `avail` action masks, `actions`, `reward` (team mean), `terminated` and `filled` (L).
    """

    def __init__(
        self,
        capacity: int,
        max_length: int,
        num_agents: int,
        obs_dim: int,
        state_dim: int,
        actions: int,
        device: torch.device,
    ):
        self.capacity, self.max_length = capacity, max_length
        length = max_length
        self.data = {
            "obs": torch.zeros(capacity, length + 1, num_agents, obs_dim, device=device),
            "state": torch.zeros(capacity, length + 1, state_dim, device=device),
            "avail": torch.ones(capacity, length + 1, num_agents, actions, dtype=torch.bool, device=device),
            "actions": torch.zeros(capacity, length, num_agents, dtype=torch.long, device=device),
            "reward": torch.zeros(capacity, length, device=device),
            "terminated": torch.zeros(capacity, length, dtype=torch.bool, device=device),
            "filled": torch.zeros(capacity, length, dtype=torch.bool, device=device),
        }
        self.size = 0
        self.next = 0

    def __len__(self) -> int:
        return self.size

    def insert(self, episode: dict[str, torch.Tensor]) -> None:
        for key, value in episode.items():
            self.data[key][self.next] = value
        self.next = (self.next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """`batch_size` distinct episodes, uniformly, longest first (so a recurrent pass can skip
        the finished ones), trimmed to the longest one drawn."""
        index = torch.randperm(self.size, generator=generator)[:batch_size].to(self.data["reward"].device)
        lengths = self.data["filled"][index].sum(1)
        index = index[torch.argsort(lengths, descending=True, stable=True)]
        batch = {k: v[index] for k, v in self.data.items()}
        length = int(lengths.max())  # `filled` is a prefix of each episode
        return {
            k: v[:, : length + 1] if k in ("obs", "state", "avail") else v[:, :length]
            for k, v in batch.items()
        }

    def latest(self, count: int) -> dict[str, torch.Tensor]:
        """The `count` episodes inserted last (at most the buffer's size)."""
        count = min(count, self.size)
        index = (torch.arange(self.next - count, self.next) % self.capacity).to(self.data["reward"].device)
        return {k: v[index] for k, v in self.data.items()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "data": {k: v[: self.size].clone() for k, v in self.data.items()},
            "size": self.size,
            "next": self.next,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in state["data"].items():
            self.data[key][: len(value)] = value
        self.size, self.next = state["size"], state["next"]


class EpisodeAssembler:
    """Per-copy episodes being played, written step by step and handed over when they end."""

    def __init__(self, buffer: EpisodeBuffer, num_envs: int):
        self.buffer = buffer
        device = buffer.data["reward"].device
        self.rows = {
            k: torch.zeros_like(v[:1]).repeat(num_envs, *[1] * (v.dim() - 1)) for k, v in buffer.data.items()
        }
        self.rows["avail"].fill_(True)
        self.t = torch.zeros(num_envs, dtype=torch.long, device=device)

    def clear(self, copy: int | None = None) -> None:
        """Forget the running episode of one copy (or of all, at a reseed)."""
        index = slice(None) if copy is None else copy
        for key, row in self.rows.items():
            row[index] = key == "avail"
        if copy is None:
            self.t.zero_()
        else:
            self.t[copy] = 0

    def add(
        self, obs, state, avail, actions, reward, terminated, done, final_obs, final_state, final_avail
    ) -> int:
        """Write one step of every copy; file finished episodes; return how many finished."""
        n = torch.arange(len(self.t), device=self.t.device)
        if bool((self.t >= self.buffer.max_length).any()):
            raise TrainingError(
                f"an episode ran past {self.buffer.max_length} steps, the replay buffer's episode length"
            )
        t = self.t
        self.rows["obs"][n, t] = obs
        self.rows["state"][n, t] = state
        self.rows["avail"][n, t] = avail
        self.rows["actions"][n, t] = actions
        self.rows["reward"][n, t] = reward
        self.rows["terminated"][n, t] = terminated
        self.rows["filled"][n, t] = True
        self.rows["obs"][n, t + 1] = final_obs  # overwritten by the next step unless the episode ended
        self.rows["state"][n, t + 1] = final_state
        self.rows["avail"][n, t + 1] = final_avail  # the allowed actions a truncated episode bootstraps over
        self.t = t + 1
        finished = done.nonzero().flatten().tolist()
        for copy in finished:
            self.buffer.insert({k: v[copy] for k, v in self.rows.items()})
            self.clear(copy)
        return len(finished)


@dataclass
class NewEpisodes:
    """What an off-policy iteration hands to `algorithm.update`."""

    buffer: EpisodeBuffer
    new_episodes: int


class OffPolicyTrainer(Trainer):
    """`Trainer` for algorithms with `off_policy = True` (QMIX)."""

    reseed_at_checkpoints = True  # rollouts span whole episodes; resumes stay bit for bit

    def __init__(self, config: RunConfig, run_dir: Path, *, resume: bool = False, sources: list[str] = ()):
        self._buffer_state = None
        super().__init__(config, run_dir, resume=resume, sources=sources)
        spec, algo = self.env.spec, self.algorithm
        if not spec.max_episode_steps:
            raise TrainingError(
                f"{config.algo} stores whole episodes and needs a task with an episode limit; {spec.name} has none"
            )
        self.buffer = EpisodeBuffer(
            config.offpolicy.buffer_size,
            spec.max_episode_steps,
            algo.num_agents,
            algo.obs_dim,
            spec.state_space.shape[0],
            algo.num_actions,
            self.device,
        )
        if self._buffer_state is not None:
            self.buffer.load_state_dict(self._buffer_state)
            self._buffer_state = None
        self.assembler = EpisodeAssembler(self.buffer, config.num_envs)

    def _metric_names(self) -> list[str]:
        return list(self.algorithm_cls.metric_names)

    def collect(self, timestep: envs.TimeStep, hidden: dict[str, Any], starts: torch.Tensor):
        algo, agents = self.algorithm, self.env.spec.agents
        if bool(starts.all()):  # a fresh reset (start, or reseed at a checkpoint)
            self.assembler.clear()
        episodes = empty_episodes(self.task_info_keys)
        finished = 0
        for step in range(self.config.rollout.length):
            algo.set_epsilon(self.state.env_steps + step * self.config.num_envs)
            obs = algo.actor_inputs(timestep.obs, timestep.state)
            actions, _, next_hidden = algo.act(obs, timestep.action_mask, hidden["actor"], starts)
            nxt = self.env.step({a: algo.actors[a].to_env(actions[a]) for a in agents})
            stacked = torch.stack([actions[a] for a in agents], -1)
            finished += self.assembler.add(
                obs=algo.stack_obs(obs),
                state=timestep.state.float(),
                avail=algo.stack_masks(timestep.action_mask, stacked.unsqueeze(-1)),
                actions=stacked,
                reward=torch.stack([nxt.reward[a] for a in agents]).float().mean(0),
                terminated=nxt.terminated if self.config.offpolicy.bootstrap_truncated else nxt.done,
                done=nxt.done,
                final_obs=algo.stack_obs(nxt.final_obs),
                final_state=nxt.final_state.float(),
                final_avail=algo.stack_masks(nxt.final_action_mask, stacked.unsqueeze(-1)),
            )
            if bool(nxt.done.any()):
                self._record_episodes(nxt, nxt.done, episodes)
            hidden = {"actor": next_hidden, "critic": None, "cost_critic": None}
            starts = nxt.done
            timestep = nxt
        return NewEpisodes(self.buffer, finished), timestep, hidden, starts, episodes

    def checkpoint_extras(self, path: Path) -> dict[str, Any]:
        # the replay buffer goes with the checkpoint a resume reads, not with best.pt
        return {"replay": self.buffer.state_dict()} if path.name == "latest.pt" else {}

    def load_checkpoint_extras(self, payload: dict[str, Any]) -> None:
        self._buffer_state = payload.get("replay")  # loaded once the buffer exists
