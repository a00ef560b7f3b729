"""bench/bench_safe_learning.py on a tiny suite of real runs: it runs the suite through the
leaderboard machinery, tabulates each run's final figures from its own files, and a second
call runs nothing new (the benchmark resumes rather than restarts)."""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

import pytest

pytest.importorskip("mujoco", reason="Safe MaMuJoCo needs the mujoco extra: pip install -e '.[mujoco]'")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import bench_safe_learning  # noqa: E402

TASK = "safe_mamujoco/SafeSwimmer2x1Velocity"
TINY_SUITE = f"""
name: tiny_safe
seeds: [0]
steps: 400
overrides:
  num_envs: 2
  env_kwargs: {{max_episode_steps: 50}}
  rollout: {{length: 50}}
  train: {{actor_minibatches: 1, critic_minibatches: 1}}
  eval: {{interval: 0, episodes: 2, num_envs: 2}}
  log: {{tensorboard: false, interval: 100}}
random_reference: {{episodes: 2, seed: 0}}
groups:
  - name: tiny
    tasks: [{TASK}]
    algorithms: [macpo, mappo]
"""


def test_bench_tabulates_the_runs_final_figures_and_resumes(tmp_path, capsys):
    suite = tmp_path / "tiny_safe.yaml"
    suite.write_text(TINY_SUITE)
    runs, out = tmp_path / "runs_dir", tmp_path / "safe_learning.json"
    # --seeds makes a copy of the suite with its own seed count (here the same one seed)
    args = [
        "--suite",
        str(suite),
        "--seeds",
        "1",
        "--runs-dir",
        str(runs),
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    assert bench_safe_learning.main(args) == 0
    result = json.loads(out.read_text())
    assert result["runs_finished"] == result["runs_planned"] == 2
    rows = {row["algo"]: row for row in result["rows"]}
    assert set(rows) == {"macpo", "mappo", "random"}
    for algo in ("macpo", "mappo"):
        (run_dir,) = (runs / "runs" / "safe_mamujoco__SafeSwimmer2x1Velocity" / algo).glob("seed0-*")
        with (run_dir / "progress.csv").open() as handle:
            progress = list(csv.DictReader(handle))
        assert len(progress) == 4  # 400 steps of 2 copies x 50
        last = progress[-3:]  # 10% of 4 iterations is under the 3-iteration minimum
        final = json.loads((run_dir / "summary.json").read_text())["final"]
        row = rows[algo]
        assert row["cost_limit"] == 25.0  # Safety-Gymnasium's default, from the task's metadata
        assert row["train_cost"]["per_seed"] == [statistics.mean(float(r["train_cost"]) for r in last)]
        assert row["train_return"]["per_seed"] == [statistics.mean(float(r["train_return"]) for r in last)]
        assert row["eval_cost"]["per_seed"] == [float(final["eval_cost"])]
        # the first quarter of 4 iterations is the first one
        assert row["start_cost"]["per_seed"] == [float(progress[0]["train_cost"])]
        assert row["keeps_limit_train"] == (row["train_cost"]["mean"] <= 25.0)
    verdicts = result["verdicts"]
    assert len(verdicts) == 2 and all("the limit 25" in v and "random" in v for v in verdicts)
    assert any(v.startswith(f"{TASK} macpo:") for v in verdicts)
    assert "lagrange_multiplier" not in rows["macpo"]  # only MAPPO-L has one
    for verdict in verdicts:  # a cost over the limit says whether it was falling
        assert ("over the limit" in verdict) == ("first quarter" in verdict)
    printed = capsys.readouterr().out
    assert "per-seed train cost" in printed and f"{TASK:<42} macpo" in printed

    stamps = {p: p.stat().st_mtime_ns for p in runs.rglob("summary.json")}
    assert bench_safe_learning.main(args) == 0
    assert "3 runs planned, 3 finished, 0 to run" in capsys.readouterr().out  # 2 trained, 1 random
    assert stamps == {p: p.stat().st_mtime_ns for p in runs.rglob("summary.json")}
    assert json.loads(out.read_text())["rows"] == result["rows"]
