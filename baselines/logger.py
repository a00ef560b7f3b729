"""Run outputs: `progress.csv` (deterministic columns only, so two runs with one seed give
the same file), TensorBoard events, `train.log`, the console progress line, and optionally a
Weights & Biases run (`WandbSink`)."""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from baselines.config import LogConfig
from envs.errors import MissingDependencyError
from envs.extras import module_available, pip_install_extra

WANDB_EXTRA = "wandb"
WANDB_ID_FILE = "wandb_id.txt"  # the W&B run a resumed run continues
VIDEO_TAG = "eval/video"
# TensorBoard shows a video as an animated GIF; it keeps at most this many frames, and this many
# pixels on the longer side, so that videos do not swell the event files (the MP4 keeps all)
TB_VIDEO_FRAMES = 200
TB_VIDEO_SIDE = 240


def fmt(value: float, digits: int = 1) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    )


class RunLogger:
    """Appends rows to `progress.csv`, mirrors them to TensorBoard (and W&B), prints progress lines."""

    def __init__(
        self,
        run_dir: Path,
        columns: list[str],
        *,
        tensorboard: bool,
        resume_from: int | None,
        wandb: WandbSink | None = None,
    ):
        self.run_dir = run_dir
        self.columns = columns
        self.path = run_dir / "progress.csv"
        if resume_from is not None and self.path.exists():
            self._truncate(resume_from)
        new = not self.path.exists()
        self._file = self.path.open("a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=columns, restval="", extrasaction="raise")
        if new:
            self._writer.writeheader()
            self._file.flush()
        self._log: TextIO = (run_dir / "train.log").open("a")
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(run_dir / "tensorboard"))
        self._wandb = wandb
        self._start = time.perf_counter()

    def _truncate(self, iteration: int) -> None:
        """Drop rows a crashed run wrote after its last checkpoint."""
        with self.path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, restval="")
            writer.writeheader()
            for row in rows:
                if int(row["iteration"]) <= iteration:
                    writer.writerow({k: row.get(k, "") for k in self.columns})

    def row(self, values: dict[str, Any], step: int) -> None:
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"progress columns not declared: {sorted(unknown)}")
        self._writer.writerow({k: _cell(v) for k, v in values.items()})
        self._file.flush()
        if self._tb is not None:
            for key, value in values.items():
                if key != "iteration" and isinstance(value, int | float) and not math.isnan(float(value)):
                    self._tb.add_scalar(_tb_name(key), value, step)
        if self._wandb is not None:
            self._wandb.row(values, step)

    def scalar(self, key: str, value: float, step: int) -> None:
        """Non-deterministic figures (speed) go to TensorBoard and W&B only."""
        if self._tb is not None:
            self._tb.add_scalar(key, value, step)
        if self._wandb is not None:
            self._wandb.log({key: value}, step)

    def video(self, path: Path, step: int, fps: float, frames: int) -> None:
        """A training video, the MP4 at `path` of `frames` frames: TensorBoard gets a GIF of it, W&B the MP4."""
        if self._tb is not None:
            self._tb.file_writer.add_summary(gif_summary(VIDEO_TAG, path, fps, frames), step)
        if self._wandb is not None:
            self._wandb.video(VIDEO_TAG, path, step)

    def info(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(line, file=sys.stdout, flush=True)
        self._log.write(line + "\n")
        self._log.flush()

    def close(self) -> None:
        self._file.close()
        self._log.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.close()


class WandbSink:
    """Mirrors a run to Weights & Biases: the progress rows (TensorBoard's names, env_steps as
    the step), the resolved config with the manifest, and the training videos.

    wandb reads WANDB_MODE itself: `offline` writes the run under RUN_DIR/wandb for a later
    `wandb sync`. A resumed run continues its W&B run (the id is kept in RUN_DIR/wandb_id.txt);
    W&B ignores the rows it already has, so for the iterations between the last checkpoint and
    the stop it keeps the stopped session's values.
    """

    def __init__(
        self,
        run_dir: Path,
        options: LogConfig,
        *,
        name: str,
        config: dict[str, Any],
        manifest_key: str,
        manifest: dict[str, Any],
    ):
        import wandb

        self._wandb = wandb
        id_file = run_dir / WANDB_ID_FILE
        run_id = id_file.read_text().strip() if id_file.exists() else None
        self.run = wandb.init(
            project=options.wandb_project,
            entity=options.wandb_entity,
            group=options.wandb_group,
            tags=list(options.wandb_tags) or None,
            name=name,
            dir=str(run_dir),
            id=run_id,
            resume="allow" if run_id else None,
        )
        id_file.write_text(self.run.id + "\n")
        self.run.config.update({**config, manifest_key: manifest}, allow_val_change=True)

    def row(self, values: dict[str, Any], step: int) -> None:
        """A progress row: its numbers under TensorBoard's names (NaN cells left out)."""
        numbers = {
            key if key == "iteration" else _tb_name(key): value
            for key, value in values.items()
            if isinstance(value, int | float) and not math.isnan(float(value))
        }
        self.log(numbers, step)

    def log(self, values: dict[str, Any], step: int) -> None:
        self.run.log(values, step=step)

    def video(self, tag: str, path: Path, step: int) -> None:
        self.run.log({tag: self._wandb.Video(str(path), format="mp4")}, step=step)

    def close(self) -> None:
        self.run.finish()


def require_wandb() -> None:
    """`log.wandb=true` needs the optional wandb package; say how to install it."""
    if not module_available("wandb"):
        raise MissingDependencyError(
            "log.wandb=true needs the wandb package, which is not installed here; install it with: "
            f"{pip_install_extra(WANDB_EXTRA)} (or pip install wandb)"
        )


def gif_summary(tag: str, path: Path, fps: float, frames: int) -> Any:
    """A TensorBoard image summary holding the MP4 as an animated GIF (what `add_video` writes,
    without its moviepy dependency): every k-th frame and pixel, within the TB_VIDEO_* bounds."""
    import imageio.v2 as imageio
    import imageio.v3 as iio
    import numpy as np
    from tensorboard.compat.proto.summary_pb2 import Summary

    every = max(1, math.ceil(frames / TB_VIDEO_FRAMES))
    kept = []
    with imageio.get_reader(path, format="FFMPEG") as reader:
        for index, frame in enumerate(reader):
            if index % every == 0:
                stride = max(1, math.ceil(max(frame.shape[:2]) / TB_VIDEO_SIDE))
                kept.append(frame[::stride, ::stride])
    clip = np.stack(kept)
    gif = iio.imwrite("<bytes>", clip, extension=".gif", duration=round(1000 * every / fps), loop=0)
    _, height, width, channels = clip.shape
    image = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=gif)
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value


def _tb_name(key: str) -> str:
    for prefix in ("train_", "eval_"):
        if key.startswith(prefix):
            return f"{prefix[:-1]}/{key[len(prefix) :]}"
    return f"update/{key}"
