"""Published reference numbers, read from the data files in `leaderboards/reference/`.

Each reference (an entry of `reference/index.yaml`) yields, for one of our tasks, a final
value per published algorithm (`final`) and, for curve data, the learning curves
(`curves`). Values are converted to our units (`scale`) and keep their source and setting,
which the README prints under the table.
"""

from __future__ import annotations

import csv
import glob
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@dataclass(frozen=True)
class ReferenceValue:
    """A published final result for one task and algorithm."""

    reference: str
    title: str
    algorithm: str  # as published, e.g. HAPPO
    metric: str  # our metric name: return, win, score, ...
    mean: float
    std: float | None  # spread over seeds where the data has it
    seeds: int | None
    steps: float | None

    @property
    def label(self) -> str:
        return f"{self.algorithm.upper()} ({self.title}, reference)"


@dataclass(frozen=True)
class ReferenceCurve:
    reference: str
    title: str
    algorithm: str
    steps: list[float]
    mean: list[float]
    low: list[float]
    high: list[float]


@cache
def index() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((REFERENCE_DIR / "index.yaml").read_text())


def check_ids(ids: list[str] | tuple[str, ...], where: str) -> None:
    from leaderboards.suite import SuiteError

    for ref in ids:
        if ref not in index():
            raise SuiteError(f"{where}: unknown reference {ref!r} (known: {', '.join(index())})")


def final_values(ref: str, task: str) -> list[ReferenceValue]:
    """The reference's final result for each published algorithm on `task` (may be empty)."""
    entry = index()[ref]
    key = entry.get("tasks", {}).get(task)
    if key is None:
        return []
    if entry["kind"] == "table":
        return _table_values(ref, entry, key)
    return [
        ReferenceValue(
            ref,
            entry["title"],
            published,
            entry["metric"],
            curve.mean[-1],
            _last_seed_std(path),
            _seed_count(path),
            curve.steps[-1],
        )
        for published, path, curve in _curves(ref, entry, key)
    ]


def curves(ref: str, task: str) -> list[ReferenceCurve]:
    entry = index()[ref]
    key = entry.get("tasks", {}).get(task)
    if entry["kind"] != "curves" or key is None:
        return []
    return [curve for _, _, curve in _curves(ref, entry, key)]


def describe(ref: str) -> str:
    entry = index()[ref]
    return f"{entry['title']}: {entry['setting']}. Source: {entry['citation']}."


def _table_values(ref: str, entry: dict[str, Any], key: str) -> list[ReferenceValue]:
    with open(REFERENCE_DIR / entry["file"]) as handle:
        rows = {row[entry["key"]]: row for row in csv.DictReader(handle)}
    row = rows.get(key)
    if row is None:
        return []
    scale = float(entry.get("scale", 1.0))
    return [
        ReferenceValue(
            ref, entry["title"], published, entry["metric"], float(row[published]) * scale, None, None, None
        )
        for published in entry["algorithms"]
        if row.get(published) not in (None, "")
    ]


def _curves(ref: str, entry: dict[str, Any], stem: str) -> list[tuple[str, Path, ReferenceCurve]]:
    out = []
    for published in entry["algorithms"]:
        matches = sorted(glob.glob(str(REFERENCE_DIR / entry["pattern"].format(stem=stem, algo=published))))
        if not matches:
            continue
        path = Path(matches[0])
        steps, mean, low, high = [], [], [], []
        with open(path) as handle:
            for row in csv.DictReader(handle):
                m, spread = float(row["rew"]), float(row.get("rew:shaded") or 0.0)
                steps.append(float(row["env_step"]))
                mean.append(m)
                low.append(m - spread)
                high.append(m + spread)
        curve = ReferenceCurve(ref, entry["title"], published, steps, mean, low, high)
        out.append((published, path, curve))
    return out


def _seed_columns(path: Path) -> tuple[list[str], list[str]]:
    with open(path) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        last = header
        for row in reader:
            last = row
    columns = [i for i, name in enumerate(header) if "seed" in name]
    return [header[i] for i in columns], [last[i] for i in columns]


def _seed_count(path: Path) -> int:
    return len(_seed_columns(path)[0])


def _last_seed_std(path: Path) -> float | None:
    values = [float(v) for v in _seed_columns(path)[1] if v not in ("", None)]
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
