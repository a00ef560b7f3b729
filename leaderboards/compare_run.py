"""One run's training curve beside a published curve at the same env steps.

Why: the published Bi-DexHands curves (`reference/bidexhands/`) are training-episode returns
logged every rollout, not evaluations, so a run is compared with them through its own
training returns (`progress.csv` `train_return`, the mean return of the episodes that ended
in each iteration). Ours are pooled per window of env steps, each iteration weighted by the
episodes that ended in it; the published mean over seeds (and its shaded band) is
interpolated at the window's middle.

    python -m leaderboards.compare_run runs/bidexhands__ShadowHandOver/happo/seed0 --windows 10
    python -m leaderboards.compare_run RUN_DIR --reference bidexhands --plot over.png --out over.json
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from leaderboards import reference


@dataclass(frozen=True)
class Window:
    first_step: float
    last_step: float
    ours: float | None  # episode-weighted mean training return; None: no episode ended
    episodes: int
    published: float | None  # published mean at the window's middle; None: outside its steps
    published_low: float | None
    published_high: float | None


def read_training_curve(run_dir: Path) -> list[tuple[float, float, int]]:
    """(env steps, mean training return, episodes ended) per iteration with any ending."""
    rows = []
    previous = 0
    with (run_dir / "progress.csv").open() as handle:
        for row in csv.DictReader(handle):
            episodes = int(row["episodes"])
            ended, previous = episodes - previous, episodes
            if row.get("train_return") and ended > 0:
                rows.append((float(row["env_steps"]), float(row["train_return"]), ended))
    return rows


def interpolate(xs: list[float], ys: list[float], x: float) -> float | None:
    """Linear interpolation of a curve at `x`; None outside its steps."""
    if not xs or x < xs[0] or x > xs[-1]:
        return None
    return float(np.interp(x, xs, ys))


def compare(
    curve: list[tuple[float, float, int]], published: reference.ReferenceCurve, windows: int, total: float
) -> list[Window]:
    out = []
    width = total / windows
    for k in range(windows):
        first, last = k * width, (k + 1) * width
        inside = [(ret, n) for step, ret, n in curve if first < step <= last]
        episodes = sum(n for _, n in inside)
        ours = sum(ret * n for ret, n in inside) / episodes if episodes else None
        middle = (first + last) / 2
        out.append(
            Window(
                first,
                last,
                ours,
                episodes,
                interpolate(published.steps, published.mean, middle),
                interpolate(published.steps, published.low, middle),
                interpolate(published.steps, published.high, middle),
            )
        )
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: list[Window], task: str, algo: str, published: reference.ReferenceCurve) -> str:
    lines = [
        f"{task}, {algo}: our training return against {published.algorithm.upper()} ({published.title})",
        "| env steps | ours: mean training return (episodes) | published mean [shaded band] |",
        "|---|---|---|",
    ]
    for w in rows:
        band = f" [{_fmt(w.published_low)}, {_fmt(w.published_high)}]" if w.published is not None else ""
        lines.append(
            f"| {w.first_step:,.0f}-{w.last_step:,.0f} | {_fmt(w.ours)} ({w.episodes}) | {_fmt(w.published)}{band} |"
        )
    return "\n".join(lines)


def plot(
    curve: list[tuple[float, float, int]], published: reference.ReferenceCurve, path: Path, title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = curve[-1][0] if curve else published.steps[-1]
    shown = [i for i, s in enumerate(published.steps) if s <= last * 1.05]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([c[0] for c in curve], [c[1] for c in curve], lw=0.8, alpha=0.8, label="ours (per iteration)")
    ax.plot(
        [published.steps[i] for i in shown], [published.mean[i] for i in shown], "--", label="published mean"
    )
    ax.fill_between(
        [published.steps[i] for i in shown],
        [published.low[i] for i in shown],
        [published.high[i] for i in shown],
        alpha=0.2,
        linewidth=0,
    )
    ax.set_xlabel("env steps")
    ax.set_ylabel("training episode return")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m leaderboards.compare_run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", type=Path, help="a run directory written by baselines.run")
    parser.add_argument(
        "--reference", default="bidexhands", help="reference id (leaderboards/reference/index.yaml)"
    )
    parser.add_argument("--algo", help="published algorithm to compare with (default: the run's)")
    parser.add_argument("--windows", type=int, default=10, help="windows of env steps (default 10)")
    parser.add_argument("--plot", type=Path, help="write a PNG of both curves")
    parser.add_argument("--out", type=Path, help="write the windows as JSON")
    args = parser.parse_args(argv)
    config_path = args.run_dir / "config.yaml"
    if not config_path.exists() or not (args.run_dir / "progress.csv").exists():
        print(
            f"error: {args.run_dir} has no config.yaml and progress.csv (not a run directory)",
            file=sys.stderr,
        )
        return 2
    config = yaml.safe_load(config_path.read_text())
    task, algo = config["env"], args.algo or config["algo"]
    if args.reference not in reference.index():
        print(
            f"error: unknown reference {args.reference!r}; known: {', '.join(reference.index())}",
            file=sys.stderr,
        )
        return 2
    published = [c for c in reference.curves(args.reference, task) if c.algorithm == algo]
    if not published:
        print(f"error: {args.reference} publishes no {algo} curve for {task}", file=sys.stderr)
        return 2
    curve = read_training_curve(args.run_dir)
    if not curve:
        print(f"error: no training episode has ended yet in {args.run_dir}", file=sys.stderr)
        return 2
    total = max(step for step, _, _ in curve)
    rows = compare(curve, published[0], max(args.windows, 1), total)
    print(table(rows, task, algo, published[0]))
    if args.out:
        args.out.write_text(
            json.dumps({"task": task, "algo": algo, "windows": [asdict(w) for w in rows]}, indent=2)
        )
    if args.plot:
        plot(curve, published[0], args.plot, f"{task}: {algo} training return, ours vs published")
    return 0


if __name__ == "__main__":
    sys.exit(main())
