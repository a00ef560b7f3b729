"""Evaluate a trained run's checkpoint: `python -m baselines.evaluate RUN_DIR`.

Loads the run's resolved `config.yaml` and a checkpoint, builds the env and the algorithm as
training did, plays episodes on fresh seeds (modal actions unless `--stochastic`) and prints
the episode return as mean ± std and IQM with its 95% bootstrap interval, plus the cost and
the task's own info keys (success, win rate, score) where the task reports them. The numbers,
every episode's values, the settings and the run manifest of this evaluation go to
`RUN_DIR/eval/<checkpoint>-<seed>.json` (`-stochastic` added with `--stochastic`);
`--video` records the first episodes of env copy 0 to an MP4.

The episodes come from the trainer's own evaluation loop (`baselines.trainer.play_episodes`):
with the seed, copies and episode count of the trainer's last evaluation (seed + 1_000_003 +
final iteration, `eval.num_envs`, `eval.episodes`) and `--checkpoint latest`, it reproduces
that evaluation's numbers in `summary.json`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

import envs
from baselines.algorithms import get_algorithm
from baselines.config import RunConfig, build
from baselines.logger import fmt
from baselines.run import SETUP_ERRORS
from baselines.trainer import (
    ObservationNormalizer,
    _jsonable,
    check_compatible,
    load_policy,
    play_episodes,
    read_checkpoint,
)
from envs.extras import module_available, pip_install_extra
from envs.manifest import run_manifest
from envs.vector.copy import EPISODE_COST_KEY, EPISODE_KEYS
from leaderboards.stats import CONFIDENCE, DEFAULT_REPS, bootstrap_interval, mean_std

# Default evaluation seed: the run's seed + this. Training resets use seed + 7919 k and the
# trainer's evaluations seed + 1_000_003 + iteration, so these seeds are fresh for any run.
FRESH_SEED_OFFSET = 2_000_003
CHECKPOINT_NAMES = ("best", "latest")
VIDEO_EXTRA = "video"
VIDEO_MODULES = ("imageio", "imageio_ffmpeg")
VIDEO_SUFFIXES = (".mp4", ".gif")  # a GIF shows inline in a README
# The `envs.make` keywords that make a copy draw, unless spec.metadata["render_kwargs"] names fewer
# (MaMuJoCo takes all three; PettingZoo tasks such as MPE only render_mode, and draw at their own size)
RENDER_KWARGS = ("render_mode", "width", "height")
DEFAULT_VIDEO_SIZE = (480, 480)  # width, height
DEFAULT_VIDEO_FPS = 30.0
BOOTSTRAP_VALUES = 5_000_000  # replicates x episodes held at once (40 MB): fewer replicates for many episodes

EXAMPLES = """examples:
  python -m baselines.evaluate runs/mpe2__simple_spread/mappo/seed0
  python -m baselines.evaluate runs/mamujoco__HalfCheetah-2x3/happo/seed1 --checkpoint latest --episodes 100
  python -m baselines.evaluate runs/mamujoco__HalfCheetah-2x3/happo/seed1 --video cheetah.mp4 \\
      --video-episodes 2 --video-size 640x480
  python -m baselines.evaluate RUN_DIR --checkpoint path/to/other.pt --stochastic --seed 7 --device cuda

The seed S resets copy i of the evaluation envs with S + i (default: the run's seed + 2000003,
seeds neither training nor the trainer's evaluations used). Videos need `pip install imageio
imageio-ffmpeg` (the `video` extra) and a task whose spec.metadata["render_modes"] has rgb_array;
the MuJoCo families draw with an offscreen OpenGL context (MUJOCO_GL=egl, or osmesa).
"""


class EvaluationError(RuntimeError):
    """An evaluation that cannot start: no run directory, no checkpoint, no renderer, ..."""


@dataclass
class EvalSettings:
    """What `python -m baselines.evaluate` was asked; None: the run's own setting."""

    run_dir: Path
    checkpoint: str = "best"
    episodes: int | None = None  # None: the run's eval.episodes
    seed: int | None = None  # None: the run's seed + FRESH_SEED_OFFSET
    stochastic: bool = False
    num_envs: int | None = None  # None: the run's eval.num_envs
    device: str | None = None  # None: the run's device
    video: Path | None = None
    video_episodes: int = 1
    video_size: tuple[int, int] = DEFAULT_VIDEO_SIZE  # width, height
    video_fps: float | None = None  # None: the task's control rate or render_fps, else 30


@dataclass(frozen=True)
class Plan:
    """The evaluation as it runs, the run's defaults filled in."""

    episodes: int
    num_envs: int
    seed: int
    device: torch.device


# ----------------------------------------------------------------------------- set-up checks


def load_run_config(run_dir: Path) -> RunConfig:
    """The resolved config a run was trained with (what `baselines.run --resume` reads)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise EvaluationError(
            f"{run_dir} is not a run directory (no config.yaml); give the folder that "
            "`python -m baselines.run` wrote, e.g. runs/<task>/<algo>/seed<seed>"
        )
    return build(yaml.safe_load(path.read_text()) or {})


def checkpoint_path(run_dir: Path, checkpoint: str) -> tuple[str, Path]:
    """`best`, `latest` or a file: its label (for the JSON's name) and its path."""
    folder = Path(run_dir) / "checkpoints"
    if checkpoint in CHECKPOINT_NAMES:
        path = folder / f"{checkpoint}.pt"
        if not path.is_file():
            there = sorted(p.name for p in folder.glob("*.pt")) if folder.is_dir() else []
            raise EvaluationError(
                f"no checkpoint {path} (checkpoints there: {', '.join(there) or 'none'}); "
                "choose --checkpoint best, latest or the path of a .pt file"
            )
        return checkpoint, path
    path = Path(checkpoint)
    if not path.is_file():
        raise EvaluationError(
            f"--checkpoint {checkpoint!r} is neither {' nor '.join(CHECKPOINT_NAMES)} nor an existing file"
        )
    return path.stem, path


def resolve_device(requested: str | None, config: RunConfig) -> torch.device:
    """The run's device unless asked otherwise; a CUDA run evaluates on a CPU machine with --device cpu."""
    try:
        device = torch.device(requested or config.device)
    except RuntimeError as error:
        raise EvaluationError(f"--device {requested!r}: {error}; use e.g. cpu, cuda or cuda:1") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        source = "--device" if requested else f"the run's device ({config.device})"
        raise EvaluationError(f"{source} is CUDA, but this machine has no CUDA device; pass --device cpu")
    return device


def check_video_path(path: Path) -> Path:
    """Fail before any episode is played if the video cannot be written where asked."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise EvaluationError(
            f"--video {path}: the video is written as MP4 (or an animated GIF); give a path ending in .mp4 or .gif"
        )
    if path.is_dir():
        raise EvaluationError(f"--video {path} is a directory; give a file path ending in .mp4 or .gif")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with path.open("ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as error:
        raise EvaluationError(f"cannot write the video to {path}: {error.strerror or error}") from None
    return path


def require_video_modules(asked_by: str = "--video") -> None:
    """imageio and the imageio-ffmpeg wheel (which ships an ffmpeg binary) are optional."""
    missing = [m for m in VIDEO_MODULES if not module_available(m)]
    if missing:
        raise envs.MissingDependencyError(
            f"{asked_by} needs imageio and imageio-ffmpeg, which are not installed here (missing: "
            f"{', '.join(missing)}); install them with: {pip_install_extra(VIDEO_EXTRA)} "
            "(or pip install imageio imageio-ffmpeg)"
        )


# ------------------------------------------------------------------------ env and policy


def render_problem(spec: envs.EnvSpec) -> str | None:
    """Why a task cannot be filmed, or None when its `spec.metadata["render_modes"]` has rgb_array."""
    if "rgb_array" in tuple(spec.metadata.get("render_modes", ())):
        return None
    return (
        f"{spec.name} cannot render frames (family {spec.family} has no RGB renderer: its "
        "spec.metadata['render_modes'] has no 'rgb_array')"
    )


def make_env(
    config: RunConfig, num_envs: int, device: torch.device, seed: int, video_size: tuple[int, int] | None
) -> tuple[envs.MultiAgentEnv, Callable[[], np.ndarray] | None]:
    """The evaluation env as training made it, and a function drawing copy 0 when a video is asked.

    Tasks that can draw say so in `spec.metadata["render_modes"]`. Those whose `render` takes a size
    (Bi-DexHands, SMAX) draw on request; the others must be built to render, so their env is made
    again with the `spec.metadata["render_kwargs"]` they take (default `RENDER_KWARGS`).
    """
    if video_size is not None:
        os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen, without a display (read at first render)
    env = envs.make(config.env, num_envs=num_envs, device=device, seed=seed, **config.env_kwargs)
    if video_size is None:
        return env, None
    width, height = video_size
    problem = render_problem(env.spec)
    if problem is not None:
        env.close()
        raise EvaluationError(f"{problem}, so --video cannot record it")
    if "width" in inspect.signature(env.render).parameters:
        return env, lambda: env.render(0, width=width, height=height)
    taken = tuple(env.spec.metadata.get("render_kwargs", RENDER_KWARGS))
    env.close()
    drawing = {"render_mode": "rgb_array", "width": width, "height": height}
    kwargs = {**config.env_kwargs, **{k: v for k, v in drawing.items() if k in taken}}
    env = envs.make(config.env, num_envs=num_envs, device=device, seed=seed, **kwargs)
    return env, lambda: env.render(0)


def load_algorithm(
    config: RunConfig, spec: envs.EnvSpec, path: Path, device: torch.device
) -> tuple[Any, ObservationNormalizer, dict[str, Any]]:
    """The run's algorithm and observation statistics with the checkpoint's weights."""
    try:
        payload = read_checkpoint(path, device)
    except Exception as error:  # not a torch file, truncated, written by something else
        raise EvaluationError(f"{path} is not a readable checkpoint ({_first_line(error)})") from None
    if not isinstance(payload, dict) or not {"algorithm", "normalizer"} <= set(payload):
        raise EvaluationError(f"{path} is not a checkpoint written by baselines.run (no networks in it)")
    written_by = payload.get("config") or {}
    if (written_by.get("algo"), written_by.get("env")) != (config.algo, config.env):
        raise EvaluationError(
            f"{path} was written by a {written_by.get('algo')} run on {written_by.get('env')}, but the run "
            f"directory's config.yaml is {config.algo} on {config.env}; give a checkpoint of this run"
        )
    algorithm_cls = get_algorithm(config.algo)
    check_compatible(algorithm_cls, spec)
    algorithm = algorithm_cls(spec, config, device)
    normalizer = ObservationNormalizer(spec, config.train.normalize_obs).to(device)
    try:
        load_policy(payload, algorithm, normalizer)
    except (RuntimeError, KeyError, ValueError) as error:  # networks of another shape or kind
        raise EvaluationError(
            f"{path} does not fit the networks that config.yaml describes ({_first_line(error)}); "
            "was config.yaml edited after training? give a checkpoint written with this config"
        ) from None
    return algorithm, normalizer, payload


# ------------------------------------------------------------------- progress and video


class Progress:
    """'episodes done / asked' on one line (rewritten in a terminal, every 10% otherwise)."""

    def __init__(self, asked: int, stream: Any = None):
        self.asked, self.stream = asked, stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = -1

    def update(self, done: int) -> None:
        done = min(done, self.asked)
        step = max(1, self.asked // 10)
        if done == self.shown or (not self.tty and done % step and done != self.asked):
            return
        self.shown = done
        line = f"evaluating: {done}/{self.asked} episodes"
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.shown >= 0:
            print(file=self.stream, flush=True)


@dataclass
class VideoRecorder:
    """Streams the frames of copy 0's first `episodes` episodes to an MP4: one frame per state
    the policy acts on (an episode of length L gives L frames; its final state is not drawn,
    as the copy has already been reset when it is reached). With `size` (width, height), frames
    a task draws at its own size (MPE: 700x700) are scaled to it."""

    path: Path
    render: Callable[[], np.ndarray]
    episodes: int
    fps: float
    size: tuple[int, int] | None = None
    frames: int = 0
    finished: int = 0
    _writer: Any = field(default=None, repr=False)

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.stem + ".partial" + self.path.suffix.lower())

    def __call__(self, timestep: envs.TimeStep) -> bool:
        """Record copy 0's current frame; True while its recorded episodes are not all over."""
        if bool(timestep.done[0]):
            self.finished += 1
        if self.finished >= self.episodes:
            return False
        self._write(self._frame())
        return True

    def _frame(self) -> np.ndarray:
        try:
            frame = np.asarray(self.render())
        except Exception as error:
            if self.frames:
                raise
            raise EvaluationError(
                f"could not render a frame ({type(error).__name__}: {error}); the MuJoCo families render "
                "offscreen with an OpenGL context: set MUJOCO_GL=egl (GPU or libEGL) or MUJOCO_GL=osmesa "
                "(CPU, libosmesa)"
            ) from error
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise EvaluationError(f"the task rendered a frame of shape {frame.shape}, not (height, width, 3)")
        frame = frame.astype(np.uint8, copy=False)
        if self.size is not None and (frame.shape[1], frame.shape[0]) != tuple(self.size):
            from PIL import Image  # imageio's own dependency

            frame = np.asarray(Image.fromarray(frame).resize(tuple(self.size), Image.Resampling.BILINEAR))
        return frame

    def _write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            import imageio.v2 as imageio

            if self.path.suffix.lower() == ".gif":  # Pillow's writer; duration per frame in ms
                self._writer = imageio.get_writer(self.partial, mode="I", duration=1000.0 / self.fps, loop=0)
            else:  # macro_block_size 2: keep the asked size (libx264 with yuv420p needs even sides)
                self._writer = imageio.get_writer(
                    self.partial, format="FFMPEG", mode="I", fps=self.fps, codec="libx264", macro_block_size=2
                )
        self._writer.append_data(frame)
        self.frames += 1

    def close(self, keep: bool) -> None:
        """Finish the file and move it into place, or drop it when the evaluation failed."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if keep and self.frames:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ statistics


def summarize(values: list[float]) -> dict[str, Any]:
    """Mean ± std (ddof 1) and IQM with its percentile bootstrap interval over episodes."""
    if not values:
        return {"n": 0, "mean": None, "std": None, "iqm": None}
    mean, std = mean_std(values)
    reps = max(1_000, min(DEFAULT_REPS, BOOTSTRAP_VALUES // len(values)))
    iqm = bootstrap_interval([values], reps=reps)
    return {
        "n": len(values),
        "mean": mean,
        "std": _finite(std),
        "iqm": {**iqm.as_dict(), "confidence": CONFIDENCE, "bootstrap_reps": reps},
    }


def episode_values(found: dict[str, Any], episodes: int, has_costs: bool) -> dict[str, list[float]]:
    """The first `episodes` episodes' values per metric, as the trainer's evaluation counts them."""
    values = {"return": found["return"][:episodes], "length": found["length"][:episodes]}
    if has_costs:
        values["cost"] = found["cost"][:episodes]
    for key, seen in found["info"].items():
        values[key] = seen[:episodes]
    return values


# ----------------------------------------------------------------------------------- main


def evaluate(settings: EvalSettings, progress_stream: Any = None) -> dict[str, Any]:
    """Run the evaluation; write the JSON (and the video); return the JSON's content.

    Everything that can be wrong with the input is checked before the first episode."""
    run_dir = Path(settings.run_dir)
    config = load_run_config(run_dir)
    label, path = checkpoint_path(run_dir, settings.checkpoint)
    device = resolve_device(settings.device, config)
    seed = config.seed + FRESH_SEED_OFFSET if settings.seed is None else settings.seed
    plan = Plan(
        episodes=settings.episodes or config.eval.episodes,
        num_envs=settings.num_envs or config.eval.num_envs,
        seed=seed,
        device=device,
    )
    if settings.video is not None:
        require_video_modules()
        check_video_path(settings.video)
    torch.set_num_threads(config.torch_threads)
    video_size = settings.video_size if settings.video is not None else None
    env, render = make_env(config, plan.num_envs, device, seed, video_size)
    recorder = None
    try:
        algorithm, normalizer, payload = load_algorithm(config, env.spec, path, device)
        if render is not None:
            fps = settings.video_fps or video_fps(env.spec)
            recorder = VideoRecorder(
                Path(settings.video), render, settings.video_episodes, fps, size=settings.video_size
            )
        found = play(env, algorithm, normalizer, plan, settings.stochastic, recorder, progress_stream)
    except BaseException:
        if recorder is not None:
            recorder.close(keep=False)
        raise
    finally:
        env.close()
    if recorder is not None:
        recorder.close(keep=True)
    values = episode_values(found, plan.episodes, env.spec.has_costs)
    report = build_report(config, run_dir, label, path, payload, plan, settings, recorder, values, env.spec)
    out = run_dir / "eval" / f"{label}-{seed}{'-stochastic' if settings.stochastic else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    report["written_to"] = str(out)
    return report


def play(
    env: envs.MultiAgentEnv,
    algorithm: Any,
    normalizer: ObservationNormalizer,
    plan: Plan,
    stochastic: bool,
    recorder: VideoRecorder | None,
    progress_stream: Any = None,
) -> dict[str, Any]:
    """The trainer's evaluation loop, with progress and the video watching each step."""
    progress = Progress(plan.episodes, progress_stream)
    info_keys = [k for k in env.spec.info_keys if k not in (*EPISODE_KEYS, EPISODE_COST_KEY)]
    torch.manual_seed(plan.seed)  # --stochastic: the same seed samples the same actions

    def watch(timestep: envs.TimeStep, found: dict[str, Any]) -> bool:
        progress.update(len(found["return"]))
        return recorder(timestep) if recorder is not None else False

    # as many steps as the trainer allows, and enough for the video's episodes of copy 0
    rounds = max(plan.episodes // plan.num_envs, recorder.episodes if recorder else 0) + 2
    try:
        found = play_episodes(
            env,
            algorithm,
            normalizer,
            episodes=plan.episodes,
            seed=plan.seed,
            info_keys=info_keys,
            deterministic=not stochastic,
            watch=watch,
            max_steps=(env.spec.max_episode_steps or 10_000) * rounds,
        )
        progress.update(len(found["return"]))
    finally:
        progress.close()
    return found


def build_report(
    config: RunConfig,
    run_dir: Path,
    label: str,
    path: Path,
    payload: dict[str, Any],
    plan: Plan,
    settings: EvalSettings,
    recorder: VideoRecorder | None,
    values: dict[str, list[float]],
    spec: envs.EnvSpec,
) -> dict[str, Any]:
    """The JSON: numbers, every episode's values, the settings and this evaluation's manifest."""
    train_state = payload.get("train_state") or {}
    video = recorder is not None
    return {
        "task": config.env,
        "algo": config.algo,
        "run_dir": str(run_dir),
        "checkpoint": {
            "name": label,
            "path": str(path),
            "iteration": train_state.get("iteration"),
            "env_steps": train_state.get("env_steps"),
        },
        "settings": {
            "episodes": plan.episodes,
            "seed": plan.seed,
            "deterministic": not settings.stochastic,
            "num_envs": plan.num_envs,
            "device": str(plan.device),
            "video": str(settings.video) if video else None,
            "video_episodes": recorder.episodes if video else None,
            "video_frames": recorder.frames if video else None,
            "video_size": list(settings.video_size) if video else None,
            "video_fps": recorder.fps if video else None,
        },
        "episodes": len(values["return"]),
        "metrics": {name: summarize(v) for name, v in values.items()},
        "per_episode": values,
        "manifest": run_manifest(
            kind="evaluation",
            task=config.env,
            algo=config.algo,
            seed=plan.seed,
            device=str(plan.device),
            torch_threads=config.torch_threads,
            checkpoint=str(path),
            run_dir=str(run_dir),
            env_metadata={k: v for k, v in spec.metadata.items() if _jsonable(v)},
        ),
    }


def format_report(report: dict[str, Any]) -> str:
    """The lines printed at the end: one per metric."""
    s, c = report["settings"], report["checkpoint"]
    mode = "modal actions" if s["deterministic"] else "sampled actions"
    lines = [
        f"{report['algo']} on {report['task']}, checkpoint {c['name']} (iteration {c['iteration']}, "
        f"{c['env_steps']} env steps): {report['episodes']} episodes, seed {s['seed']}, {mode}"
    ]
    if report["episodes"] < s["episodes"]:
        lines.append(
            f"warning: only {report['episodes']} of {s['episodes']} episodes ended in the step limit"
        )
    for name, m in report["metrics"].items():
        if not m["n"]:
            lines.append(f"  {name:<8} - (no episode reported it)")
            continue
        iqm = m["iqm"]
        lines.append(
            f"  {name:<8} {fmt(m['mean'], 3)} ± {fmt(m['std'], 3)}   IQM {fmt(iqm['value'], 3)} "
            f"[{iqm['confidence']:.0%} CI {fmt(iqm['low'], 3)}, {fmt(iqm['high'], 3)}]"
            + (f"  ({m['n']} episodes)" if name not in ("return", "length", "cost") else "")
        )
    if s["video"]:
        lines.append(
            f"video: {s['video']} ({s['video_frames']} frames, {s['video_episodes']} episodes of copy 0)"
        )
    lines.append(f"wrote {report['written_to']}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m baselines.evaluate",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory written by baselines.run")
    p.add_argument(
        "--checkpoint",
        default="best",
        metavar="best|latest|PATH",
        help="checkpoints/best.pt (default), checkpoints/latest.pt, or a checkpoint file",
    )
    p.add_argument(
        "--episodes", type=_positive_int, help="episodes to play (default: the run's eval.episodes)"
    )
    p.add_argument(
        "--seed", type=int, help="env seed; copy i starts from seed + i (default: run seed + 2000003)"
    )
    p.add_argument("--stochastic", action="store_true", help="sample actions instead of taking the modal one")
    p.add_argument(
        "--num-envs", type=_positive_int, help="parallel env copies (default: the run's eval.num_envs)"
    )
    p.add_argument("--device", help="torch device, e.g. cpu or cuda (default: the run's)")
    p.add_argument(
        "--video",
        type=Path,
        metavar="PATH.mp4",
        help="record env copy 0 to this MP4 file (or .gif, for READMEs)",
    )
    p.add_argument(
        "--video-episodes",
        type=_positive_int,
        default=1,
        metavar="K",
        help="episodes of copy 0 to record (default 1; play goes on until they end, uncounted)",
    )
    p.add_argument(
        "--video-size",
        type=_size,
        default=DEFAULT_VIDEO_SIZE,
        metavar="WxH",
        help="frame size, even sides (480x480)",
    )
    p.add_argument(
        "--video-fps",
        type=float,
        help="frames per second (default: the task's control rate or render_fps, else 30)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = EvalSettings(
        run_dir=args.run_dir,
        checkpoint=args.checkpoint,
        episodes=args.episodes,
        seed=args.seed,
        stochastic=args.stochastic,
        num_envs=args.num_envs,
        device=args.device,
        video=args.video,
        video_episodes=args.video_episodes,
        video_size=args.video_size,
        video_fps=args.video_fps,
    )
    try:
        report = evaluate(settings)
    except (EvaluationError, *SETUP_ERRORS) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evaluation interrupted; nothing written", file=sys.stderr)
        return 130
    print(format_report(report))
    return 0


def video_fps(spec: envs.EnvSpec) -> float:
    """Real time: the task's control rate (`control_dt`), else its `render_fps`, else 30."""
    dt = spec.metadata.get("control_dt")
    if isinstance(dt, int | float) and dt > 0:
        return 1.0 / float(dt)
    fps = spec.metadata.get("render_fps")
    return float(fps) if isinstance(fps, int | float) and fps > 0 else DEFAULT_VIDEO_FPS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        width = height = 0
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT with even sides of at least 2 pixels (e.g. 480x480), got {text!r}"
        )
    return width, height


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


if __name__ == "__main__":
    raise SystemExit(main())
