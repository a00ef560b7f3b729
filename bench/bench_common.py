"""What every benchmark script shares: best-of timing and writing its JSON with the machine
and package versions, so that figures from different runs can be compared and reproduced.

The scripts run as `python bench/<script>.py`, which puts this folder on `sys.path`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envs.manifest import package_versions


def suite_vs_raw_parser(description: str, *, steps: int, out: str) -> argparse.ArgumentParser:
    """The options every suite-vs-raw benchmark takes (scripts add their own)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=steps, help="steps per measurement")
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds over all configurations; each one's best is kept"
    )
    parser.add_argument("--copies", type=int, default=8, help="copies for the vectorised runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(out))
    return parser


def best_of_interleaved(repeats: int, runs: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Best of several rounds, each round running every configuration once in turn, so that a
    slow spell on a shared machine hits the reference and the suite alike (their ratio is the
    figure that matters)."""
    best = dict.fromkeys(runs, 0.0)
    for _ in range(repeats):
        for label, run in runs.items():
            best[label] = max(best[label], run())
    return best


def suite_steps_per_second(env: Any, actions: list[dict[str, Any]]) -> float:
    """Env steps per second (copies x steps) of `env.step` over pre-drawn actions (drawing is
    not timed); the first action is a warm-up step. Resets the env first and closes it after."""
    env.reset()
    env.step(actions[0])
    start = time.perf_counter()
    for action in actions[1:]:
        env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return (len(actions) - 1) * env.spec.num_envs / elapsed


# Distinct action batches a timing loop cycles through. A learner's actions are fresh in the
# CPU cache when it steps; thousands of distinct pre-drawn batches would not be, and reading
# them cold costs a fast simulator's loop a few percent that no training run pays.
ACTION_POOL = 64


def cycled(draw: Callable[[], Any], count: int) -> list[Any]:
    """`count` actions cycling through `ACTION_POOL` (or fewer) distinct ones from `draw()`."""
    pool = [draw() for _ in range(min(ACTION_POOL, count))]
    return [pool[i % len(pool)] for i in range(count)]


def random_steps(spec: Any, steps: int, seed: int) -> list[dict[str, Any]]:
    """`steps + 1` batches of random actions (one warm-up), drawn before any timing."""
    import torch

    from envs.sampling import random_actions

    generator = torch.Generator().manual_seed(seed)
    return cycled(lambda: random_actions(spec, None, generator), steps + 1)


def overhead_row(
    label: str, copies: int, sps: float, reference: float | None, width: int = 32
) -> dict[str, Any]:
    """A result row, printed; `overhead_vs_raw` is the extra time per env step relative to the raw loop."""
    row: dict[str, Any] = {"config": label, "copies": copies, "steps_per_second": round(sps, 1)}
    if reference is not None:
        row["overhead_vs_raw"] = round(reference / sps - 1.0, 4)
    extra = f"  overhead vs raw {row['overhead_vs_raw']:+.1%}" if reference else ""
    print(f"{label:<{width}} copies={copies:<3} {sps:>10.0f} steps/s{extra}", flush=True)
    return row


def machine(**extra: Any) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_1min": round(os.getloadavg()[0], 2),
        **extra,
    }


def write_result(
    out: Path,
    result: dict[str, Any],
    *,
    machine_extra: dict[str, Any] | None = None,
    packages: dict[str, str] | None = None,
) -> None:
    """Add the machine (with its load, since other jobs skew timings) and package versions, write, say where."""
    result = {
        **result,
        "machine": machine(**(machine_extra or {})),
        "packages": packages or package_versions(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
