"""Run outputs: `progress.csv` (deterministic columns only, so two runs with one seed give
the same file), TensorBoard events, `train.log`, and the console progress line."""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def fmt(value: float, digits: int = 1) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    )


class RunLogger:
    """Appends rows to `progress.csv`, mirrors them to TensorBoard, prints progress lines."""

    def __init__(self, run_dir: Path, columns: list[str], *, tensorboard: bool, resume_from: int | None):
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

    def scalar(self, key: str, value: float, step: int) -> None:
        """Non-deterministic figures (speed) go to TensorBoard only."""
        if self._tb is not None:
            self._tb.add_scalar(key, value, step)

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


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value


def _tb_name(key: str) -> str:
    for prefix in ("train_", "eval_"):
        if key.startswith(prefix):
            return f"{prefix[:-1]}/{key[len(prefix) :]}"
    return f"update/{key}"
