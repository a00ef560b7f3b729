"""The training loop: rollouts, updates, evaluation, logging, checkpoints, resume.

Reproducibility: one seed drives the networks, the action sampling (torch's global RNG),
the minibatch and agent orders (a separate generator) and the envs. The training envs run on
across checkpoints: resetting them there would cut every episode longer than a checkpoint's
span (25 iterations of 8 steps is 200 steps, shorter than a Bi-DexHands door episode), so such
episodes would never finish. A resumed run therefore starts its envs afresh, with a seed
derived from the checkpoint's iteration: it keeps every row up to the checkpoint and continues
deterministically (the same checkpoint resumes to the same numbers), not bit for bit as the
uninterrupted run would have. `OffPolicyTrainer`, which learns from whole episodes and whose
rollouts span whole episodes, does reset at checkpoints and resumes bit for bit, and so does
an on-policy run whose config sets `exact_resume` (for runs that may be interrupted, such as
on a cluster), provided its checkpoint span is at least an episode long.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

import envs
from baselines.algorithms import OnPolicyAlgorithm, get_algorithm
from baselines.config import RunConfig
from baselines.logger import RunLogger, WandbSink, fmt, require_wandb
from baselines.normalization import RunningMeanStd
from baselines.storage import Rollout, RolloutBuilder
from envs.manifest import run_manifest

RESEED_STRIDE = 7919  # env seed after checkpoint k: seed + stride * k (far from eval seeds)
EVAL_SEED_OFFSET = 1_000_003


class TrainingError(RuntimeError):
    """A run that cannot start (bad task/algorithm combination, missing cost limit, ...)."""


@dataclass
class TrainState:
    iteration: int = 0
    env_steps: int = 0
    episodes: int = 0
    mean_episode_cost: float = math.nan
    best_eval_return: float = -math.inf
    wall_time: float = 0.0
    history: dict[str, float] = field(default_factory=dict)


class ObservationNormalizer(torch.nn.Module):
    """Running mean/std per agent observation and for the state (`train.normalize_obs`)."""

    def __init__(self, spec: envs.EnvSpec, enabled: bool):
        super().__init__()
        self.enabled = enabled
        self.obs = torch.nn.ModuleDict(
            {a: RunningMeanStd(spec.observation_spaces[a].shape) for a in spec.agents} if enabled else {}
        )
        self.state = RunningMeanStd(spec.state_space.shape) if enabled else None

    def __call__(self, obs: dict[str, torch.Tensor], state: torch.Tensor, *, update: bool):
        if not self.enabled:
            return obs, state
        if update:
            for a, x in obs.items():
                self.obs[a].update(x)
            self.state.update(state)
        return {a: self.obs[a].normalize(x).float() for a, x in obs.items()}, self.normalize_state(state)

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        return self.state.normalize(state).float() if self.enabled else state


class Trainer:
    def __init__(self, config: RunConfig, run_dir: Path, *, resume: bool = False, sources: list[str] = ()):
        self.config, self.run_dir = config, Path(run_dir)
        torch.set_num_threads(config.torch_threads)
        self.device = torch.device(config.device)
        self.algorithm_cls = get_algorithm(config.algo)
        check_log_options(config)
        self.env = envs.make(
            config.env, num_envs=config.num_envs, device=self.device, seed=config.seed, **config.env_kwargs
        )
        spec = self.env.spec
        check_compatible(self.algorithm_cls, spec)
        self._check_renders(spec)
        self.cost_limit = self._cost_limit(spec)
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed + 1)
        self.algorithm: OnPolicyAlgorithm = self.algorithm_cls(spec, config, self.device)
        self.normalizer = ObservationNormalizer(spec, config.train.normalize_obs).to(self.device)
        self.eval_env = None
        self.video_env: envs.MultiAgentEnv | None = None  # made at the first video
        self._render: Callable[[], Any] | None = None
        self.state = TrainState()
        self.steps_per_iteration = config.num_envs * config.rollout.length
        self.iterations = max(1, math.ceil(config.steps / self.steps_per_iteration))
        # --steps rounded up to whole iterations
        self.total_steps = self.iterations * self.steps_per_iteration
        self._check_exact_resume(spec)
        self.sources = list(sources)
        self.timing = {"collect_s": 0.0, "update_s": 0.0, "eval_s": 0.0, "video_s": 0.0}  # this session only
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "checkpoints").mkdir(exist_ok=True)
        self.checkpoint_iteration: int | None = None  # of checkpoints/latest.pt
        self.resumed = resume and (self.run_dir / "checkpoints" / "latest.pt").exists()
        if resume and not self.resumed:
            raise TrainingError(f"nothing to resume in {self.run_dir}: no checkpoints/latest.pt")
        if self.resumed:
            self._load(self.run_dir / "checkpoints" / "latest.pt")
        manifest_name, manifest = self._write_config()
        info_keys = [
            k for k in spec.info_keys if k not in ("episode_return", "episode_length", "episode_cost")
        ]
        self.task_info_keys = info_keys
        self.logger = RunLogger(
            self.run_dir,
            self._columns(spec, info_keys),
            tensorboard=config.log.tensorboard,
            resume_from=self.state.iteration if self.resumed else None,
            wandb=self._start_wandb(manifest_name, manifest),
        )

    # ---------------------------------------------------------------- set-up

    def _check_exact_resume(self, spec: envs.EnvSpec) -> None:
        """`exact_resume` resets the envs every checkpoint: no episode may be longer than that span."""
        config = self.config
        span = config.checkpoint_interval * config.rollout.length
        if not config.exact_resume or self.reseed_at_checkpoints or spec.max_episode_steps is None:
            return
        if span < spec.max_episode_steps:
            need = math.ceil(spec.max_episode_steps / config.rollout.length)
            raise TrainingError(
                f"exact_resume resets the envs at every checkpoint, every {config.checkpoint_interval} iterations x "
                f"{config.rollout.length} steps = {span} steps, which would cut {config.env}'s "
                f"{spec.max_episode_steps}-step episodes before they end: set checkpoint_interval to at least {need}"
            )

    def _cost_limit(self, spec: envs.EnvSpec) -> float | None:
        if not self.algorithm_cls.needs_costs:
            return None
        if self.config.train.cost_limit is not None:
            return float(self.config.train.cost_limit)
        if "cost_limit" in spec.metadata:
            return float(spec.metadata["cost_limit"])
        raise TrainingError(
            f"{self.config.algo} needs a cost limit: {spec.name} has none in its metadata; "
            "pass --set train.cost_limit=VALUE"
        )

    def _columns(self, spec: envs.EnvSpec, info_keys: list[str]) -> list[str]:
        cost = ["train_cost"] if spec.has_costs else []
        eval_cost = ["eval_cost"] if spec.has_costs else []
        algo_metrics = list(self._metric_names())
        return [
            "iteration",
            "env_steps",
            "episodes",
            "train_return",
            "train_length",
            *cost,
            *(f"train_{k}" for k in info_keys),
            "eval_return",
            "eval_length",
            *eval_cost,
            *(f"eval_{k}" for k in info_keys),
            *algo_metrics,
        ]

    def _metric_names(self) -> list[str]:
        cost = ["cost_value_loss"] if self.algorithm_cls.needs_costs else []
        return [*self.algorithm_cls.metric_names, "value_loss", *cost]

    def _check_renders(self, spec: envs.EnvSpec) -> None:
        """`log.video_interval` needs a task that draws; say so before the run starts."""
        if self.config.log.video_interval <= 0:
            return
        from baselines.evaluate import render_problem  # evaluate imports this module

        problem = render_problem(spec)
        if problem is not None:
            self.env.close()
            raise TrainingError(
                f"{problem}, so log.video_interval={self.config.log.video_interval} cannot record it; "
                "set log.video_interval=0"
            )

    def _start_wandb(self, manifest_name: str, manifest: dict[str, Any]) -> WandbSink | None:
        if not self.config.log.wandb:
            return None
        import wandb

        config = self.config
        try:
            return WandbSink(
                self.run_dir,
                config.log,
                name=f"{config.env}/{config.algo}/seed{config.seed}",
                config=config.to_dict(),
                manifest_key=manifest_name.removesuffix(".json").replace(".", "_"),
                manifest=manifest,
            )
        except wandb.errors.Error as error:
            self.env.close()
            raise TrainingError(
                f"could not start the Weights & Biases run ({error}); log in with `wandb login`, or set "
                f"WANDB_MODE=offline to keep the run in {self.run_dir / 'wandb'} for `wandb sync`"
            ) from None

    def _write_config(self) -> tuple[str, dict[str, Any]]:
        """Write config.yaml and the manifest; return the manifest's file name and content."""
        (self.run_dir / "config.yaml").write_text(yaml.safe_dump(self.config.to_dict(), sort_keys=False))
        manifest = run_manifest(
            task=self.config.env,
            algo=self.config.algo,
            seed=self.config.seed,
            device=str(self.device),
            torch_threads=self.config.torch_threads,
            config_sources=self.sources,
            cost_limit=self.cost_limit,
            resumed_at_iteration=self.state.iteration if self.resumed else None,
            env_metadata={k: v for k, v in self.env.spec.metadata.items() if _jsonable(v)},
        )
        name = "manifest.json" if not self.resumed else f"manifest.resume{self.state.iteration}.json"
        (self.run_dir / name).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        return name, json.loads(json.dumps(manifest, default=str))

    # Reset the training envs at each checkpoint (as a resume does), for bit-exact resumes: always
    # for off-policy trainers, for on-policy ones when the config sets `exact_resume`.
    reseed_at_checkpoints = False

    # ------------------------------------------------------------------ loop

    def train(self) -> dict[str, Any]:
        config, state = self.config, self.state
        self.logger.info(
            f"{config.algo} on {config.env}: {self.iterations} iterations x {self.steps_per_iteration} env steps, "
            f"{config.num_envs} copies, seed {config.seed}, device {self.device}, run dir {self.run_dir}"
            + (f" (resumed at iteration {state.iteration})" if self.resumed else "")
        )
        if self.total_steps != config.steps:
            self.logger.info(
                f"note: {config.steps:,} env steps asked for; running {self.total_steps:,}, whole iterations of "
                f"{self.steps_per_iteration:,} ({config.num_envs} copies x {config.rollout.length} steps)"
            )
        timestep = self.env.reset(seed=self._env_seed(state.iteration))
        hidden = self.algorithm.initial_hidden(config.num_envs)
        starts = torch.ones(config.num_envs, dtype=torch.bool, device=self.device)
        clock = time.perf_counter()
        window_steps, window_start = 0, clock
        row: dict[str, Any] = {}
        try:
            if state.iteration >= self.iterations:  # resumed after the last checkpoint, before the summary
                row = self.evaluate()
            while state.iteration < self.iterations:
                if config.train.linear_lr_decay:
                    self.algorithm.set_learning_rate(1.0 - state.iteration / self.iterations)
                tick = time.perf_counter()
                rollout, timestep, hidden, starts, episodes = self.collect(timestep, hidden, starts)
                self.timing["collect_s"] += time.perf_counter() - tick
                if episodes["cost"]:
                    state.mean_episode_cost = sum(episodes["cost"]) / len(episodes["cost"])
                context = {
                    "mean_episode_cost": self._episode_cost_estimate(rollout),
                    "cost_limit": self.cost_limit,
                }
                tick = time.perf_counter()
                metrics = self.algorithm.update(rollout, self.generator, context)
                self.timing["update_s"] += time.perf_counter() - tick
                state.iteration += 1
                state.env_steps += self.steps_per_iteration
                state.episodes += len(episodes["return"])
                row = {
                    "iteration": state.iteration,
                    "env_steps": state.env_steps,
                    "episodes": state.episodes,
                    "train_return": _mean(episodes["return"]),
                    "train_length": _mean(episodes["length"]),
                    **({"train_cost": _mean(episodes["cost"])} if self.env.spec.has_costs else {}),
                    **{f"train_{k}": _mean(v) for k, v in episodes["info"].items()},
                    **{k: v for k, v in metrics.items() if k in self.logger.columns},
                }
                last = state.iteration == self.iterations
                if last or (config.eval.interval > 0 and state.iteration % config.eval.interval == 0):
                    tick = time.perf_counter()
                    results = self.evaluate()
                    self.timing["eval_s"] += time.perf_counter() - tick
                    row.update(results)
                    if results["eval_return"] > state.best_eval_return:
                        state.best_eval_return = results["eval_return"]
                        self._save(self.run_dir / "checkpoints" / "best.pt")
                self.logger.row(row, state.env_steps)
                if config.log.video_interval > 0 and state.iteration % config.log.video_interval == 0:
                    tick = time.perf_counter()
                    self.record_video()
                    self.timing["video_s"] += time.perf_counter() - tick
                now = time.perf_counter()
                window_steps += self.steps_per_iteration
                state.wall_time += now - clock
                clock = now
                if last or state.iteration % config.log.interval == 0 or "eval_return" in row:
                    self._progress(row, window_steps / max(now - window_start, 1e-9))
                    self.logger.scalar(
                        "speed/env_steps_per_second",
                        window_steps / max(now - window_start, 1e-9),
                        state.env_steps,
                    )
                    window_steps, window_start = 0, now
                if last or state.iteration % config.checkpoint_interval == 0:
                    self._save(self.run_dir / "checkpoints" / "latest.pt")
                    if not last and (self.reseed_at_checkpoints or config.exact_resume):  # as a resume will
                        timestep = self.env.reset(seed=self._env_seed(state.iteration))
                        hidden = self.algorithm.initial_hidden(config.num_envs)
                        starts = torch.ones(config.num_envs, dtype=torch.bool, device=self.device)
        except BaseException as error:
            self.logger.info(f"stopped at iteration {state.iteration}: {error!r}; {self.resume_hint()}")
            raise
        finally:
            self.logger.close()
            self.env.close()
            if self.eval_env is not None:
                self.eval_env.close()
            if self.video_env is not None:
                self.video_env.close()
        summary = {
            "task": config.env,
            "algo": config.algo,
            "seed": config.seed,
            "env_steps": state.env_steps,
            "iterations": state.iteration,
            "wall_time_s": round(state.wall_time, 2),
            "env_steps_per_second": round(state.env_steps / max(state.wall_time, 1e-9), 1),
            "best_eval_return": state.best_eval_return,
            "timing_this_session": {k: round(v, 2) for k, v in self.timing.items()},
            "final": {k: v for k, v in row.items() if k.startswith("eval_")},
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary

    def resume_hint(self) -> str:
        """What is kept of a stopped run and the command that continues it."""
        if self.checkpoint_iteration is None:
            return (
                f"no checkpoint yet (the first is written at iteration {self.config.checkpoint_interval}); "
                f"the log is kept in {self.run_dir}; start the run again"
            )
        return (
            f"the last checkpoint (iteration {self.checkpoint_iteration}) and the log are kept in {self.run_dir}; "
            f"continue with: python -m baselines.run --resume {self.run_dir}"
        )

    def _episode_cost_estimate(self, rollout: Rollout) -> float:
        if not self.algorithm_cls.needs_costs:
            return math.nan
        if not math.isnan(self.state.mean_episode_cost):
            return self.state.mean_episode_cost
        # no episode has ended yet: the per-step cost rate over an episode's length
        horizon = self.env.spec.max_episode_steps or rollout.steps
        return float(rollout.costs.mean()) * horizon

    def _env_seed(self, iteration: int) -> int:
        return self.config.seed + RESEED_STRIDE * (iteration // max(self.config.checkpoint_interval, 1))

    def _progress(self, row: dict[str, Any], fps: float) -> None:
        state = self.state
        left = (self.iterations - state.iteration) * self.steps_per_iteration / max(fps, 1e-9)
        parts = [
            f"iter {state.iteration}/{self.iterations}",
            f"steps {state.env_steps:,}",
            f"{fps:,.0f} steps/s",
            f"return {fmt(row['train_return'])}",
        ]
        if "train_cost" in row:
            parts.append(f"cost {fmt(row['train_cost'], 2)}")
        for key in self.task_info_keys:
            parts.append(f"{key} {fmt(row.get(f'train_{key}', math.nan), 2)}")
        if "eval_return" in row:
            parts.append(f"eval {fmt(row['eval_return'])}")
            if "eval_cost" in row:
                parts.append(f"eval cost {fmt(row['eval_cost'], 2)}")
        parts.append(f"left {_duration(left)}")
        self.logger.info(" | ".join(parts))

    # --------------------------------------------------------------- rollouts

    def collect(self, timestep: envs.TimeStep, hidden: dict[str, Any], starts: torch.Tensor):
        algo, spec = self.algorithm, self.env.spec
        agents = spec.agents
        has_costs = algo.needs_costs
        builder = RolloutBuilder()
        episodes = empty_episodes(self.task_info_keys)
        recurrent = self.config.model.recurrent
        for _ in range(self.config.rollout.length):
            obs, state = self.normalizer(timestep.obs, timestep.state, update=True)
            obs = algo.actor_inputs(obs, state)
            actions, log_probs, next_actor_hidden = algo.act(
                obs, timestep.action_mask, hidden["actor"], starts
            )
            if algo.per_agent_values:
                values, next_critic_hidden = algo.agent_values(obs, state), None
            else:
                values, next_critic_hidden = algo.values(state, hidden["critic"], starts)
            cost_values = next_cost_hidden = None
            if has_costs:
                cost_values, next_cost_hidden = algo.values(state, hidden["cost_critic"], starts, cost=True)
            env_actions = {a: algo.actors[a].to_env(actions[a]) for a in agents}
            nxt = self.env.step(env_actions)
            final_values = torch.zeros_like(values)
            cost_final = torch.zeros_like(values) if has_costs else None
            if bool(nxt.truncated.any()) and algo.per_agent_values:
                final_obs, final_state = self.normalizer(nxt.final_obs, nxt.final_state, update=False)
                final = algo.agent_values(algo.actor_inputs(final_obs, final_state), final_state)
                final_values = torch.where(nxt.truncated.unsqueeze(-1), final, final_values)
            elif bool(nxt.truncated.any()):
                final_state = self.normalizer.normalize_state(nxt.final_state)
                final_values = torch.where(
                    nxt.truncated,
                    algo.values(final_state, next_critic_hidden, torch.zeros_like(starts))[0],
                    final_values,
                )
                if has_costs:
                    cost_final = torch.where(
                        nxt.truncated,
                        algo.values(final_state, next_cost_hidden, torch.zeros_like(starts), cost=True)[0],
                        cost_final,
                    )
            builder.add(
                obs=obs,
                state=state,
                actions=actions,
                log_probs=log_probs,
                masks=timestep.action_mask,
                starts=starts,
                rewards=torch.stack([nxt.reward[a] for a in agents]).float().mean(0),
                values=values,
                terminated=nxt.terminated,
                truncated=nxt.truncated,
                final_values=final_values,
                costs=torch.stack([nxt.cost[a] for a in agents]).float().mean(0) if has_costs else None,
                cost_values=cost_values,
                cost_final_values=cost_final,
                actor_hidden=hidden["actor"] if recurrent else None,
                critic_hidden=hidden["critic"] if recurrent else None,
                cost_critic_hidden=hidden["cost_critic"] if recurrent and has_costs else None,
            )
            done = nxt.done
            if bool(done.any()):
                self._record_episodes(nxt, done, episodes)
            hidden = {
                "actor": next_actor_hidden,
                "critic": next_critic_hidden,
                "cost_critic": next_cost_hidden,
            }
            starts = done
            timestep = nxt
        last_obs, state = self.normalizer(timestep.obs, timestep.state, update=False)
        if algo.per_agent_values:
            last_values = algo.agent_values(algo.actor_inputs(last_obs, state), state)
        else:
            last_values, _ = algo.values(state, hidden["critic"], starts)
        cost_last = algo.values(state, hidden["cost_critic"], starts, cost=True)[0] if has_costs else None
        stack = builder.stack
        rollout = Rollout(
            obs=stack("obs"),
            state=stack("state"),
            actions=stack("actions"),
            log_probs=stack("log_probs"),
            masks=stack("masks"),
            starts=stack("starts"),
            rewards=stack("rewards"),
            values=stack("values"),
            terminated=stack("terminated"),
            truncated=stack("truncated"),
            final_values=stack("final_values"),
            last_values=last_values,
            costs=stack("costs"),
            cost_values=stack("cost_values"),
            cost_final_values=stack("cost_final_values"),
            cost_last_values=cost_last,
            actor_hidden=stack("actor_hidden"),
            critic_hidden=stack("critic_hidden"),
            cost_critic_hidden=stack("cost_critic_hidden"),
        )
        return rollout, timestep, hidden, starts, episodes

    def _record_episodes(self, timestep: envs.TimeStep, done: torch.Tensor, episodes: dict[str, Any]) -> None:
        record_episodes(timestep, done, episodes, self.task_info_keys)

    # ------------------------------------------------------------- evaluation

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Deterministic actions on separate envs, seeded by the iteration."""
        config = self.config
        if self.eval_env is None:
            self.eval_env = envs.make(
                config.env,
                num_envs=config.eval.num_envs,
                device=self.device,
                seed=config.seed + EVAL_SEED_OFFSET,
                **config.env_kwargs,
            )
        env = self.eval_env
        episodes = play_episodes(
            env,
            self.algorithm,
            self.normalizer,
            episodes=config.eval.episodes,
            seed=config.seed + EVAL_SEED_OFFSET + self.state.iteration,
            info_keys=self.task_info_keys,
        )
        n = config.eval.episodes
        results = {"eval_return": _mean(episodes["return"][:n]), "eval_length": _mean(episodes["length"][:n])}
        if env.spec.has_costs:
            results["eval_cost"] = _mean(episodes["cost"][:n])
        for key, values in episodes["info"].items():
            results[f"eval_{key}"] = _mean(values[:n])
        return results

    @torch.no_grad()
    def record_video(self) -> Path:
        """One evaluation episode of env copy 0 to videos/iter<N>.mp4, TensorBoard and W&B: modal
        actions from the seed an evaluation at this iteration gives its copy 0 (the same episode)."""
        from baselines.evaluate import DEFAULT_VIDEO_SIZE, VideoRecorder, make_env, video_fps

        config, state = self.config, self.state
        seed = config.seed + EVAL_SEED_OFFSET + state.iteration
        if self.video_env is None:
            self.video_env, self._render = make_env(config, 1, self.device, seed, DEFAULT_VIDEO_SIZE)
        path = self.run_dir / "videos" / f"iter{state.iteration}.mp4"
        path.parent.mkdir(exist_ok=True)
        fps = video_fps(self.video_env.spec)
        recorder = VideoRecorder(path, self._render, episodes=1, fps=fps, size=DEFAULT_VIDEO_SIZE)
        try:
            play_episodes(
                self.video_env,
                self.algorithm,
                self.normalizer,
                episodes=1,
                seed=seed,
                info_keys=[],
                watch=lambda timestep, found: recorder(timestep),
            )
        except BaseException:
            recorder.close(keep=False)
            raise
        recorder.close(keep=True)
        self.logger.video(path, state.env_steps, fps, recorder.frames)
        return path

    # ------------------------------------------------------------ checkpoints

    def _save(self, path: Path) -> None:
        payload = {
            "algorithm": self.algorithm.state_dict(),
            "normalizer": self.normalizer.state_dict(),
            "train_state": self.state.__dict__.copy(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "config": self.config.to_dict(),
            **self.checkpoint_extras(path),
        }
        tmp = path.with_suffix(".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, path)
        if path.name == "latest.pt":
            self.checkpoint_iteration = self.state.iteration

    def _load(self, path: Path) -> None:
        payload = read_checkpoint(path, self.device)
        load_policy(payload, self.algorithm, self.normalizer)
        self.state = TrainState(**payload["train_state"])
        self.checkpoint_iteration = self.state.iteration
        self.generator.set_state(payload["generator"])
        torch.set_rng_state(payload["torch_rng"])
        self.load_checkpoint_extras(payload)

    def checkpoint_extras(self, path: Path) -> dict[str, Any]:
        """More to save in a checkpoint (the off-policy trainer's replay buffer)."""
        return {}

    def load_checkpoint_extras(self, payload: dict[str, Any]) -> None:
        pass


def check_log_options(config: RunConfig) -> None:
    """The log options' values and optional packages, checked before anything is built."""
    if config.log.video_interval < 0:
        raise TrainingError(
            f"log.video_interval must be >= 0 (0: no videos), got {config.log.video_interval}"
        )
    if config.log.video_interval > 0:
        from baselines.evaluate import require_video_modules  # evaluate imports this module

        require_video_modules(f"log.video_interval={config.log.video_interval}")
    if config.log.wandb:
        require_wandb()


def empty_episodes(info_keys: list[str]) -> dict[str, Any]:
    """Lists that `record_episodes` fills: returns, lengths, costs and the task's info keys."""
    return {"return": [], "length": [], "cost": [], "info": {k: [] for k in info_keys}}


def record_episodes(
    timestep: envs.TimeStep, done: torch.Tensor, episodes: dict[str, Any], info_keys: list[str]
) -> None:
    """File the episodes that ended at `timestep` (info values a copy left NaN are skipped)."""
    info = timestep.info
    episodes["return"] += info["episode_return"][done].tolist()
    episodes["length"] += info["episode_length"][done].tolist()
    if "episode_cost" in info:
        episodes["cost"] += info["episode_cost"][done].tolist()
    for key in info_keys:
        episodes["info"][key] += [v for v in info[key][done].tolist() if not math.isnan(v)]


@torch.no_grad()
def play_episodes(
    env: envs.MultiAgentEnv,
    algorithm: OnPolicyAlgorithm,
    normalizer: ObservationNormalizer,
    *,
    episodes: int,
    seed: int,
    info_keys: list[str],
    deterministic: bool = True,
    watch: Callable[[envs.TimeStep, dict[str, Any]], bool] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Act from `env.reset(seed)` until `episodes` episodes have ended (more may end on the last
    step). One loop for the trainer's evaluation and `baselines.evaluate`, so that evaluating a
    checkpoint with the trainer's seed gives the trainer's numbers. `watch(timestep, found)`
    sees each timestep before the policy acts on it (video frames, progress); returning True
    keeps stepping after `episodes` have ended (a video's episode still running)."""
    n = env.spec.num_envs
    timestep = env.reset(seed=seed)
    hidden = algorithm.initial_hidden(n)
    starts = torch.ones(n, dtype=torch.bool, device=env.spec.device)
    found = empty_episodes(info_keys)
    if max_steps is None:
        max_steps = (env.spec.max_episode_steps or 10_000) * (episodes // n + 2)
    for _ in range(max_steps):
        more = watch(timestep, found) if watch is not None else False
        if len(found["return"]) >= episodes and not more:
            break
        obs, state = normalizer(timestep.obs, timestep.state, update=False)
        obs = algorithm.actor_inputs(obs, state)
        actions, _, hidden["actor"] = algorithm.act(
            obs, timestep.action_mask, hidden["actor"], starts, deterministic=deterministic
        )
        timestep = env.step({a: algorithm.actors[a].to_env(x) for a, x in actions.items()})
        starts = timestep.done
        if bool(starts.any()):
            record_episodes(timestep, starts, found, info_keys)
    return found


def read_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """A checkpoint written by `Trainer._save`: networks, observation statistics, train state,
    RNG states and the run's config."""
    return torch.load(path, map_location=device, weights_only=False)


def load_policy(
    payload: dict[str, Any], algorithm: OnPolicyAlgorithm, normalizer: ObservationNormalizer
) -> None:
    """Put a checkpoint's networks and observation statistics in place (a resume, an evaluation)."""
    algorithm.load_state_dict(payload["algorithm"])
    normalizer.load_state_dict(payload["normalizer"])


def check_compatible(algorithm_cls: type[OnPolicyAlgorithm], spec: envs.EnvSpec) -> None:
    """Refuse combinations that cannot work, naming what would."""
    if algorithm_cls.needs_costs and not spec.has_costs:
        raise TrainingError(
            f"{algorithm_cls.name} is a safe-RL algorithm and needs a task with costs; {spec.name} has none "
            "(try a safe_mamujoco/Safe* task, or mappo/happo/hatrpo for this one)"
        )
    import gymnasium as gym

    from baselines.algorithms import ALGORITHMS

    for agent, space in spec.action_spaces.items():
        continuous = isinstance(space, gym.spaces.Box)
        if not (continuous or isinstance(space, gym.spaces.Discrete)):
            raise TrainingError(
                f"{algorithm_cls.name} supports Box and Discrete actions; agent {agent!r} of {spec.name} has {space}"
            )
        if (continuous and not algorithm_cls.supports_continuous) or (
            not continuous and not algorithm_cls.supports_discrete
        ):
            kind = "continuous" if continuous else "discrete"
            able = [
                n
                for n, c in ALGORITHMS.items()
                if (c.supports_continuous if continuous else c.supports_discrete)
            ]
            raise TrainingError(
                f"{algorithm_cls.name} does not support {kind} actions ({spec.name}, agent {agent!r}: {space}); "
                f"algorithms that do: {', '.join(able)}"
            )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False
