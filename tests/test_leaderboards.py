"""Leaderboards end to end: the smoke suite on the local pool and on a real local Ray cluster,
reruns that run nothing, failing runs that do not stop the others, suite-file errors, and the
paper-scale suites' dry runs."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from envs import extras
from leaderboards import aggregate as aggregate_module
from leaderboards import build, stats
from leaderboards import report as report_module
from leaderboards.aggregate import Cell, TaskResult
from leaderboards.headline import update_readme
from leaderboards.plan import config_hash, job_seconds, plan, run_status
from leaderboards.suite import SuiteError, flatten_overrides, load_suite, parse_suite

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def build_in_child(*args: str) -> subprocess.CompletedProcess:
    """`leaderboards.build` in a fresh interpreter that then checks it never imported torch or jax."""
    code = textwrap.dedent(
        f"""
        import sys
        from leaderboards import build
        code = build.main({list(args)!r})
        heavy = [m for m in ("torch", "jax") if m in sys.modules]
        assert not heavy, f"the launcher process imported {{heavy}}"
        sys.exit(code)
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def finals(out: Path) -> dict[tuple[str, str, int], dict[str, float]]:
    """(task, algo, seed) -> the final evaluation in summary.json, for every finished training run."""
    out_map = {}
    for path in (out / "runs").glob("*/*/seed*/summary.json"):
        summary = json.loads(path.read_text())
        out_map[(summary["task"], summary["algo"], summary["seed"])] = summary["final"]
    return out_map


FOOTBALL_MISSING = extras.REQUIREMENTS["football"].missing()
NO_FOOTBALL = "gfootball is not installed (bash scripts/install_football.sh builds it): the smoke suite runs without Football"


@pytest.fixture(scope="module")
def smoke_suite(tmp_path_factory) -> str:
    """The smoke suite; without gfootball, the same file less its Football group (same name, so
    the runs and tables are those of the full suite minus Football's)."""
    if not FOOTBALL_MISSING:
        return "smoke"
    data = yaml.safe_load((ROOT / "leaderboards/suites/smoke.yaml").read_text())
    data["groups"] = [g for g in data["groups"] if not any(t.startswith("football/") for t in g["tasks"])]
    path = tmp_path_factory.mktemp("suite") / "smoke.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def smoke_local(tmp_path_factory, smoke_suite) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("smoke_local")
    proc = build_in_child(smoke_suite, "--workers", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc


# --------------------------------------------------------------- local pool


def test_smoke_suite_local_end_to_end(smoke_local, smoke_suite):
    out, proc = smoke_local
    suite = load_suite(smoke_suite)
    expected = {(t, a, s) for g in suite.groups for t in g.tasks for a in g.algorithms for s in g.seeds}
    runs = finals(out)
    assert set(runs) == expected  # every family and algorithm of the suite, 2 seeds each
    planned = 32 + 4 if not FOOTBALL_MISSING else 29 + 4  # training runs + random references
    assert f"{planned} to run" in proc.stdout and "FAILED" not in proc.stdout
    for path in (
        "README.md",
        "results.csv",
        "runs.csv",
        "aggregate.csv",
        "marl_eval.json",
        "leaderboard.json",
    ):
        assert (out / path).stat().st_size > 0, path
    pngs = sorted((out / "plots").glob("*.png"))
    # a learning-curve plot per task (6; 5 without Football), aggregate, probability of improvement,
    # performance profile
    assert len(pngs) == (9 if not FOOTBALL_MISSING else 8)
    assert all(p.read_bytes()[:8] == PNG for p in pngs)
    # every run directory has what baselines.run writes, and the launcher's log
    for run_dir in (out / "runs").glob("*/*/seed*"):
        for name in ("config.yaml", "manifest.json", "progress.csv", "summary.json", "launcher.log"):
            assert (run_dir / name).exists(), run_dir / name


def test_smoke_tables_match_the_runs(smoke_local):
    out, _ = smoke_local
    runs = finals(out)
    board = json.loads((out / "leaderboard.json").read_text())
    by_task = {t["task"]: t for t in board["tasks"]}
    spread = by_task["mpe2/simple_spread"]
    for algo in ("mappo", "happo", "hatrpo"):
        values = [runs[("mpe2/simple_spread", algo, s)]["eval_return"] for s in (0, 1)]
        cell = spread["cells"]["return"][algo]
        assert cell["mean"] == pytest.approx(np.mean(values))
        assert cell["std"] == pytest.approx(np.std(values, ddof=1))
        assert cell["iqm"]["value"] == pytest.approx(np.mean(values))  # IQM of 2 values trims nothing
        assert min(values) <= cell["iqm"]["low"] <= cell["iqm"]["high"] <= max(values)
    best = max(("mappo", "happo", "hatrpo"), key=lambda a: spread["cells"]["return"][a]["mean"])
    assert spread["best"]["return"] == [best]
    safe = by_task["safe_mamujoco/SafeSwimmer2x1Velocity"]
    assert safe["cost_limit"] == 25.0 and set(safe["cells"]) >= {"return", "cost"}
    # normalisation: 0 at the random policy, 1 at the best mean within the cost limit (the bold one)
    low, high = safe["normalisation"]["low"], safe["normalisation"]["high"]
    assert low == pytest.approx(safe["random"]["return"])
    cost = {a: c["mean"] for a, c in safe["cells"]["cost"].items()}
    within = {a: c["mean"] for a, c in safe["cells"]["return"].items() if cost[a] <= 25.0}
    within = within or {a: c["mean"] for a, c in safe["cells"]["return"].items()}
    assert high == pytest.approx(max(within.values()))
    assert safe["best"]["return"] == [max(within, key=within.get)]
    # the aggregate recomputed from the per-task values with our statistics
    per_task = [
        [
            (v - t["normalisation"]["low"]) / (t["normalisation"]["high"] - t["normalisation"]["low"])
            for v in values
        ]
        for t in board["tasks"]
        if not t["normalisation"]["note"]
        and (values := t["cells"][t["score"]].get("mappo", {}).get("values"))
    ]
    expected = stats.bootstrap_interval(per_task, reps=2000, seed=0)
    assert board["aggregate"]["mappo"]["iqm"]["value"] == pytest.approx(expected.value)
    assert board["aggregate"]["mappo"]["iqm"]["low"] == pytest.approx(expected.low)
    poi = {(p["x"], p["y"]): p for p in board["probability_of_improvement"]}
    assert poi[("mappo", "happo")]["value"] + poi[("happo", "mappo")]["value"] == pytest.approx(1.0)
    both_ran = 5 if not FOOTBALL_MISSING else 4  # MPE, MaMuJoCo, Bi-DexHands, SMAX (and Football)
    assert poi[("mappo", "happo")]["tasks"] == both_ran and ("mappo", "macpo") not in poi
    # the performance profile: fraction of mappo's normalised runs strictly above each threshold
    profile = board["performance_profiles"]["mappo"]
    pooled = np.concatenate(per_task)
    assert profile["value"] == pytest.approx([float((pooled > tau).mean()) for tau in profile["tau"]])
    assert profile["tau"][0] <= min(0.0, pooled.min()) and profile["tau"][-1] >= max(1.0, pooled.max())
    assert profile["value"][-1] == 0.0  # no run is above the largest threshold
    assert set(board["performance_profiles"]) == set(board["aggregate"])


def test_smoke_readme_csv_and_marl_eval_layout(smoke_local):
    out, _ = smoke_local
    readme = (out / "README.md").read_text()
    assert "| `mpe2/simple_spread` | 800 | 2 of 2 |" in readme  # steps and seeds stated
    assert readme.count("**") >= 2 * 4  # a bold best per task and metric
    assert "cost limit 25" in readme and "P(row > column)" in readme
    assert "| algorithm | score > 0.25 | score > 0.5 | score > 0.75 | score > 1 |" in readme
    assert "![performance_profile](plots/performance_profile.png)" in readme
    assert (out / "plots" / "performance_profile.png").stat().st_size > 0
    assert "![mpe2/simple_spread](plots/curves_mpe2__simple_spread.png)" in readme
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    ours = [r for r in rows if r["source"] == "ours" and r["metric"] == "return"]
    one_seed = 6 if not FOOTBALL_MISSING else 3  # Football's and SMAX's runs have one seed
    assert len(ours) == one_seed + 13 and sorted(r["seeds"] for r in ours) == ["1"] * one_seed + ["2"] * 13
    assert {r["metric"] for r in rows} >= {"return", "cost", "success", "win"}
    data = json.loads((out / "marl_eval.json").read_text())
    families = {"mpe2", "mamujoco", "safe_mamujoco", "bidexhands", "smax"}
    assert set(data) == (families | {"football"} if not FOOTBALL_MISSING else families)
    run = data["safe_mamujoco"]["SafeSwimmer2x1Velocity"]["macpo"]["seed_1"]
    steps = [k for k in run if k.startswith("step_")]
    assert steps == ["step_0", "step_1"]  # evaluations at iterations 2 and 4 of 4
    assert run["step_1"]["step_count"] == 800
    assert isinstance(run["step_0"]["return"], list) and len(run["step_0"]["cost"]) == 1
    assert run["absolute_metrics"]["return"] == [
        finals(out)[("safe_mamujoco/SafeSwimmer2x1Velocity", "macpo", 1)]["eval_return"]
    ]


@pytest.mark.skipif(bool(FOOTBALL_MISSING), reason=NO_FOOTBALL)
def test_smoke_suite_runs_football_and_reports_its_score(smoke_local):
    out, _ = smoke_local
    runs = finals(out)
    for algo in ("mappo", "happo", "hatrpo"):
        final = runs[("football/academy_3_vs_1_with_keeper", algo, 0)]
        assert 0.0 <= final["eval_score"] <= 1.0 and "eval_return" in final
    with open(out / "results.csv") as handle:
        assert any(r["metric"] == "score" for r in csv.DictReader(handle))


def test_rerun_runs_nothing_new(smoke_local, smoke_suite):
    out, _ = smoke_local
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("summary.json")}
    proc = build_in_child(smoke_suite, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    planned = 36 if not FOOTBALL_MISSING else 33
    assert f"{planned} finished, 0 to run" in proc.stdout and "running" not in proc.stdout
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("summary.json")}
    dry = build_in_child(smoke_suite, "--dry-run", "--out", str(out))
    assert "to run: 0 training run(s)" in dry.stdout


# ---------------------------------------------------------------------- Ray


def test_smoke_suite_over_three_ray_nodes(smoke_local, smoke_suite, tmp_path, monkeypatch):
    """Ray completes the smoke suite on three worker nodes with their own scratch directories
    and no shared files (tests/ray_nodes.py): the local results with the MPE and Safe MaMuJoCo
    seed-1 runs and random references deleted (9 of 36 runs, to keep CI short), gathered back
    here. The head works outside the checkout, so the nodes can only use the shipped code."""
    pytest.importorskip("ray")
    from ray_nodes import local_cluster

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "smoke_ray"
    shutil.copytree(smoke_local[0], out)
    removed = [
        path
        for family in ("mpe2__*", "safe_mamujoco__*")
        for path in (*(out / "runs").glob(f"{family}/*/seed1-*"), *(out / "runs").glob(f"{family}/random/*"))
    ]
    assert len(removed) == 9
    for path in removed:
        shutil.rmtree(path)
    with local_cluster() as cluster:
        nodes = {cluster.add_worker(f"node{i}", tmp_path / "scratch") for i in range(3)}
        code = build.main([smoke_suite, "--launcher", "ray", "--address", cluster.address, "--out", str(out)])
    assert code == 0
    ran_on = {
        re.search(r"attempt 1 on node (\w+)", (p / "launcher.log").read_text()).group(1) for p in removed
    }
    assert len(ran_on) >= 2 and ran_on <= nodes  # spread over the nodes
    assert not list((tmp_path / "scratch").glob("*/marlsuite-run-*"))  # each node cleaned up
    local, remote = finals(smoke_local[0]), finals(out)
    assert set(remote) == set(local)
    # the same configs and seeds on CPU give the same numbers, whichever launcher ran them
    for key, metrics in local.items():
        for name, value in metrics.items():
            assert remote[key][name] == pytest.approx(value, rel=1e-6, abs=1e-9) or (
                math.isnan(value) and math.isnan(remote[key][name])
            ), (key, name)
    # results were gathered into the suite's folder, and the tables are the local ones
    assert all(path.exists() for path in removed)
    assert len(list((out / "runs").glob("*/*/seed1-*/checkpoints/latest.pt"))) == 13
    for path in removed:
        assert "$ " in (path / "launcher.log").read_text()
    board, local_board = (json.loads((d / "leaderboard.json").read_text()) for d in (out, smoke_local[0]))
    assert board["tasks"] == local_board["tasks"] and board["aggregate"] == local_board["aggregate"]


# ------------------------------------------------------------------ failures


def test_failing_run_is_reported_and_the_rest_complete(tmp_path, capsys):
    suite_file = tmp_path / "failing.yaml"
    suite_file.write_text(
        yaml.safe_dump(
            {
                "name": "failing",
                "seeds": [3],
                "steps": 400,
                "overrides": yaml.safe_load((ROOT / "leaderboards/suites/smoke.yaml").read_text())[
                    "overrides"
                ],
                "groups": [
                    # MACPO needs a task with costs: baselines.run refuses it when it starts
                    {
                        "tasks": ["mpe2/simple_spread"],
                        "algorithms": ["mappo", "macpo"],
                        "normalize": {"min": -100, "max": 0},
                    }
                ],
            }
        )
    )
    out = tmp_path / "out"
    code = build.main([str(suite_file), "--workers", "2", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 1
    assert "mpe2/simple_spread macpo seed 3: FAILED (exit status 2)" in printed.out
    assert "needs a task with costs" in printed.out  # the log's last lines are printed
    assert set(finals(out)) == {("mpe2/simple_spread", "mappo", 3)}
    readme = (out / "README.md").read_text()
    assert "**Incomplete:** 1 planned run(s)" in readme and "mpe2/simple_spread macpo seed 3" in readme
    log = next((out / "runs").glob("mpe2__simple_spread/macpo/seed3-*/launcher.log"))
    assert "needs a task with costs" in log.read_text()
    # running again retries only the failed run
    mappo_summary = next((out / "runs").glob("mpe2__simple_spread/mappo/seed3-*/summary.json"))
    stamp = mappo_summary.stat().st_mtime_ns
    assert build.main([str(suite_file), "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert (
        "1 finished, 1 to run" in printed.out
        and "[1/1] mpe2/simple_spread macpo seed 3: FAILED" in printed.out
    )
    assert mappo_summary.stat().st_mtime_ns == stamp
    assert log.read_text().count("$ ") == 2  # both attempts kept in the log


# ------------------------------------------------------------- suite files


def _suite(text: str) -> None:
    parse_suite(yaml.safe_load(textwrap.dedent(text)), Path("bad.yaml"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nsedes: 3\ngroups: []", "unknown key 'sedes' (did you mean 'seeds'?). Allowed keys: name:"),
        ("name: x\ngroups: [{tasks: [a]}]", "groups[0]: missing key 'algorithms'"),
        ("name: x\nseeds: [1, 1]\ngroups: [{tasks: [a], algorithms: [b]}]", "seeds lists a seed twice"),
        (
            "name: x\ngroups: [{tasks: [a], algorithms: [b], steps: -5}]",
            "groups[0].steps must be a positive integer",
        ),
        (
            "name: x\ngroups: [{tasks: [a], algorithms: [b], normalize: {min: worst}}]",
            "normalize.min must be 'random' or a number",
        ),
        ("name: x\ngroups: [{tasks: [a], algorithms: [b], resources: {cores: 2}}]", "unknown key 'cores'"),
        (
            "name: x\nbootstrap: {reps: 0}\ngroups: [{tasks: [a], algorithms: [b]}]",
            "bootstrap.reps must be a positive integer",
        ),
        ("name: a/b\ngroups: [{tasks: [a], algorithms: [b]}]", "name must be letters, digits"),
        ("groups: [{tasks: [a], algorithms: [b]}]", "missing key 'name'"),
        (
            "name: x\nestimate: {steps_per_second: {b: 100}}\ngroups: [{tasks: [a], algorithms: [b, c]}]",
            "groups[0] (group 1): estimate.steps_per_second has no figure for c (it gives b)",
        ),
        (
            "name: x\ngroups: [{tasks: [a], algorithms: [qmix], algorithm_overrides: {qmx: {steps: 5}}}]",
            "algorithm_overrides: 'qmx' is not one of the algorithms (qmix) (did you mean 'qmix'?)",
        ),
        (
            "name: x\ngroups: [{tasks: [a], algorithms: [b], estimate: {steps_per_second: fast}}]",
            "estimate.steps_per_second must be a non-negative number or {algorithm: number}, got 'fast'",
        ),
    ],
)
def test_bad_suite_files_name_the_key(text, message):
    with pytest.raises(SuiteError) as error:
        _suite(text)
    assert message in str(error.value)


def test_unknown_task_algorithm_and_reference(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ngroups: [{tasks: [mpe2/simple_sprad], algorithms: [mappo]}]\n")
    with pytest.raises(SuiteError, match=r"groups\[0\].*simple_sprad.*did you mean mpe2/simple_spread"):
        plan(load_suite(path), tmp_path)
    path.write_text("name: bad\ngroups: [{tasks: [mpe2/simple_spread], algorithms: [hapo]}]\n")
    with pytest.raises(SuiteError, match="unknown algorithm 'hapo': did you mean happo"):
        plan(load_suite(path), tmp_path)
    path.write_text(
        "name: bad\ngroups: [{tasks: [mpe2/simple_spread], algorithms: [mappo], reference: [harl]}]\n"
    )
    assert build.main([str(path), "--dry-run", "--out", str(tmp_path)]) == 2


def test_dry_run_estimate_uses_each_algorithms_own_throughput(tmp_path, capsys):
    """MAT trains at half MAPPO's speed on MaMuJoCo: a per-algorithm figure keeps the estimate honest."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nsteps: 10000\nseeds: 1\n"
        "estimate: {steps_per_second: {mappo: 1000, mat: 500}, source: test figures}\n"
        "groups: [{tasks: [mpe2/simple_spread], algorithms: [mappo, mat], normalize: {min: 0}}]\n"
    )
    jobs = plan(load_suite(path), tmp_path)
    assert {j.algo: job_seconds(j) for j in jobs} == {"mappo": 10 + 10.0, "mat": 10 + 20.0}
    assert build.main([str(path), "--dry-run", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "estimated time: 0m50s for one run at a time" in printed and "test figures" in printed


def test_algorithm_overrides_reach_only_that_algorithms_runs(tmp_path):
    """Evaluation intervals count iterations, whose size differs per algorithm: a suite can set
    QMIX's apart, and the other algorithms' configs (and run directories) stay as they were."""
    path = tmp_path / "s.yaml"
    base = "name: s\nsteps: 800\noverrides: {eval: {interval: 5}}\n"
    path.write_text(base + "groups: [{tasks: [mpe2/simple_spread], algorithms: [mappo, qmix]}]\n")
    before = {j.algo: j for j in plan(load_suite(path), tmp_path) if j.kind == "train"}
    path.write_text(
        base + "algorithm_overrides: {qmix: {eval: {interval: 25, episodes: 7}}}\n"
        "groups: [{tasks: [mpe2/simple_spread], algorithms: [mappo, qmix]}]\n"
    )
    after = {j.algo: j for j in plan(load_suite(path), tmp_path) if j.kind == "train"}
    assert after["qmix"].config["eval"]["interval"] == 25 and after["qmix"].config["eval"]["episodes"] == 7
    assert before["qmix"].config["eval"]["interval"] == 5
    assert (
        after["mappo"].config == before["mappo"].config and after["mappo"].run_dir == before["mappo"].run_dir
    )
    assert after["qmix"].run_dir != before["qmix"].run_dir


def test_flatten_overrides_round_trip():
    overrides = {
        "train": {"clip": 0.1},
        "model": {"hidden_sizes": [64, 64]},
        "env_kwargs": {"rewards": "a,b"},
    }
    assert flatten_overrides(overrides) == [
        "train.clip=0.1",
        "model.hidden_sizes=[64, 64]",
        'env_kwargs.rewards="a,b"',
    ]


def test_run_identity_and_status(tmp_path):
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text(
        "name: s\nsteps: 400\ngroups: [{tasks: [mpe2/simple_spread], algorithms: [mappo]}]\n"
    )
    (job, random_job) = plan(load_suite(suite_file), tmp_path)
    assert (job.kind, job.status, random_job.kind) == ("train", "missing", "random")
    assert job.config["steps"] == 400 and job.run_dir.name == f"seed0-{config_hash(job.config)}"
    # a finished run is one whose directory has summary.json and the planned config
    job.run_dir.mkdir(parents=True)
    (job.run_dir / "config.yaml").write_text(yaml.safe_dump(job.config))
    (job.run_dir / "summary.json").write_text("{}")
    assert run_status(job) == "done"
    (job.run_dir / "config.yaml").write_text(yaml.safe_dump({**job.config, "seed": 9}))
    assert run_status(job) == "missing"  # not the planned config: run it again
    # an interrupted run (checkpoint, no summary) is resumed
    (job.run_dir / "config.yaml").write_text(yaml.safe_dump(job.config))
    (job.run_dir / "summary.json").unlink()
    (job.run_dir / "checkpoints").mkdir()
    (job.run_dir / "checkpoints" / "latest.pt").write_bytes(b"")
    job.status = run_status(job)
    assert job.status == "partial" and job.args("DIR") == ["-m", "baselines.run", "--resume", "DIR"]
    # another budget is another config, hence another run directory
    suite_file.write_text(
        "name: s\nsteps: 800\ngroups: [{tasks: [mpe2/simple_spread], algorithms: [mappo]}]\n"
    )
    (other, _) = plan(load_suite(suite_file), tmp_path)
    assert other.run_dir != job.run_dir and other.status == "missing"


# ------------------------------------------------------- paper-scale suites


@pytest.mark.parametrize(
    ("suite", "tasks", "algorithms", "references", "seeds"),
    [
        ("bidexhands", 20, 3, 20, 5),  # 9 tasks with published curves + 11 without; a random policy each
        ("safe_mamujoco", 11, 4, 11, 5),
        ("smax", 7, 3, 0, 5),
        ("football", 5, 2, 0, 5),
        ("safe_bidexhands", 4, 4, 4, 3),  # SafePO's benchmark.py: 3 seeds
    ],
)
def test_paper_suites_dry_run(suite, tasks, algorithms, references, seeds, tmp_path, capsys):
    runs = tasks * algorithms * seeds
    assert build.main([suite, "--dry-run", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"{runs + references} runs planned, 0 finished" in printed
    assert f"to run: {runs} training run(s)" in printed and "estimated time:" in printed
    assert not (tmp_path / "runs").exists()  # a dry run runs nothing
    steps = {}
    for match in re.finditer(r"^  run +(\S+) \S+ seed 0 +([\d,]+) steps", printed, re.MULTILINE):
        steps[match[1]] = int(match[2].replace(",", ""))
    assert len(steps) == tasks
    if suite == "smax":  # HARL's budgets per difficulty
        assert steps["smax/5m_vs_6m"] == 10_000_000 and steps["smax/27m_vs_30m"] == 20_000_000
        assert steps["smax/6h_vs_8z"] == 40_000_000
    if suite == "football":  # the tuned configs' own budgets
        assert steps["football/academy_counterattack_hard"] == 50_000_000
        assert steps["football/academy_3_vs_1_with_keeper"] == 25_000_000
    if suite == "safe_mamujoco":
        assert set(steps.values()) == {10_000_000}
    if suite in ("bidexhands", "safe_bidexhands"):
        assert set(steps.values()) == {100_000_000}


# measured wall time of each laptop suite's whole build on this 2-core machine, 2 workers
LAPTOP_BUILD_MINUTES = {"mamujoco-laptop": 48, "smax-laptop": 57, "mpe-laptop": 69}


@pytest.mark.parametrize(
    ("suite", "planned"), [("mamujoco-laptop", 80 + 4), ("smax-laptop", 36), ("mpe-laptop", 60 + 2)]
)
def test_laptop_suites_dry_run_estimates_are_within_a_quarter_of_their_builds(
    suite, planned, tmp_path, capsys
):
    """A fresh build's dry-run estimate on two workers (from the suite's measured throughput)
    is within 25% of the time the build took: mamujoco-laptop 48 min (2,896 s wall, against 55
    min estimated beforehand; its HalfCheetah group was then rebuilt with 8 copies in 1,908 s of
    run time against the 20-copy runs' 1,919 s); smax-laptop 57 min (3,413 s wall, against 59
    min estimated beforehand); mpe-laptop 69 min (4,159 s wall, against 63 min estimated
    beforehand). The suite files now hold the throughput these builds measured."""
    assert build.main([suite, "--dry-run", "--workers", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"{planned} runs planned, 0 finished" in printed
    match = re.search(r"about (?:(\d+)h)?(\d+)m\d*s? with 2 in parallel", printed)
    assert match, printed[-500:]
    estimate = int(match[1] or 0) * 60 + int(match[2])
    measured = LAPTOP_BUILD_MINUTES[suite]
    assert 0.75 * measured <= estimate <= 1.25 * measured, (estimate, measured)


def test_reference_data_is_read_with_its_source():
    from leaderboards import reference

    smac = {r.algorithm: r.mean for r in reference.final_values("harl_smac", "smax/3s5z")}
    assert smac == pytest.approx({"HAPPO": 0.975, "HATRPO": 0.938, "MAPPO": 0.969, "QMIX": 0.898})
    football = {
        r.algorithm: r.mean
        for r in reference.final_values("harl_football", "football/academy_counterattack_hard")
    }
    assert football["HAPPO"] == pytest.approx(0.881)
    over = {r.algorithm: r for r in reference.final_values("bidexhands", "bidexhands/ShadowHandOver")}
    assert over["happo"].mean == pytest.approx(27.2264) and over["happo"].seeds == 10
    assert "Isaac Gym" in reference.describe("bidexhands") and "JMLR" in reference.describe("harl_smac")
    # HARL's own code measured on a 2-core machine (issue 5): MAPPO 1,204 at 300k, HAPPO about
    # 1,100 by 150k, the budget of mamujoco-laptop's HalfCheetah group
    cheetah = "mamujoco/HalfCheetah-2x3"
    assert {r.algorithm: r.mean for r in reference.final_values("harl_code_2core", cheetah)} == {
        "MAPPO": 1204
    }
    at_150k = {r.algorithm: r.mean for r in reference.final_values("harl_code_2core_150k", cheetah)}
    assert at_150k == {"HAPPO": 1100} and "150k" in reference.describe("harl_code_2core_150k")


def test_report_on_references_without_runs(tmp_path):
    """A suite with references and nothing finished still writes a README with the reference columns."""
    shutil.copy(ROOT / "leaderboards/suites/smax.yaml", tmp_path / "smax.yaml")
    assert build.main([str(tmp_path / "smax.yaml"), "--no-run", "--out", str(tmp_path / "out")]) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "**Incomplete:** 105 planned run(s)" in readme
    assert (
        "| mappo | happo | hatrpo | HAPPO (HARL, SMAC, reference) | HATRPO (HARL, SMAC, reference) |"
        in readme
    )
    assert "| `smax/3s5z` | – | 0 of 5 | – | – | – | – | 0.975 |" in readme
    assert "StarCraft II 4.10" in readme


# ------------------------------------------------- one rule for "best"


def _cell(*values: float) -> Cell:
    mean = float(np.mean(values))
    return Cell(list(values), mean, float(np.std(values)), stats.Interval(mean, mean, mean))


def _constrained_task(returns: dict[str, float], costs: dict[str, float]) -> TaskResult:
    return TaskResult(
        task="safe/x",
        family="safe",
        group="g",
        group_index=0,
        score="return",
        seeds=(0,),
        env_steps=[800],
        cost_limit=25.0,
        metrics=["return", "cost"],
        cells={
            "return": {a: _cell(v) for a, v in returns.items()},
            "cost": {a: _cell(v) for a, v in costs.items()},
        },
        random={"return": 0.0},
    )


def test_a_cost_breaking_algorithm_is_best_neither_per_task_nor_in_the_aggregate():
    """The smoke suite's case: MAPPO-L has the higher return but a cost of 59.4 against a limit of
    25. Per task and across tasks, the best is the best within the limit, and the normalisation's
    high is that algorithm's return (MAPPO-L scores above 1 without being bold)."""
    task = _constrained_task({"macpo": 10.0, "mappo_l": 20.0}, {"macpo": 12.0, "mappo_l": 59.4})
    aggregate_module._normalisation(task, {"min": "random", "max": "best"})
    task.best = {m: aggregate_module._best(task, m) for m in task.metrics}
    assert task.best == {"return": ["macpo"], "cost": ["macpo"]}
    assert (task.norm_low, task.norm_high) == (0.0, 10.0)
    assert aggregate_module.normalised_scores(task, "mappo_l") == [2.0]
    board = aggregate_module.Leaderboard(
        suite=None,
        algorithms=["macpo", "mappo_l"],
        tasks=[task],
        runs=[],
        missing=[],
        aggregate={},
        improvement={},
    )
    board.aggregate = aggregate_module._aggregate([task], ["macpo", "mappo_l"], reps=50, seed=0)
    assert (
        board.aggregate["mappo_l"]["breaks_limit"] == ["safe/x"]
        and board.aggregate["macpo"]["breaks_limit"] == []
    )
    assert board.aggregate["mappo_l"]["iqm"].value > board.aggregate["macpo"]["iqm"].value
    assert aggregate_module.aggregate_best(board) == ["macpo"]
    section = "\n".join(report_module._aggregate_section(board, [], Path(".")))
    assert "| macpo | 1 | 1 | **1" in section and "| mappo_l | 1 | 1 | 2" in section
    assert "broken on `safe/x`" in section
    # when every algorithm breaks the limit, the best is the best of all (as per task)
    both = _constrained_task({"macpo": 10.0, "mappo_l": 20.0}, {"macpo": 30.0, "mappo_l": 59.4})
    assert aggregate_module._best(both, "return") == ["mappo_l"]


def test_rebuilding_replaces_the_whole_report_but_keeps_the_runs(smoke_local, smoke_suite, tmp_path):
    """What is in the output folder after a build is exactly what that build wrote (no stale plot
    of a task the suite no longer has), and the runs are reused, not rerun."""
    out = tmp_path / "copy"
    shutil.copytree(smoke_local[0], out)
    stale = [out / "plots" / "curves_gone__task.png", out / "notes.txt"]
    for path in stale:
        path.write_bytes(b"old")
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("summary.json")}
    proc = build_in_child(smoke_suite, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert not any(p.exists() for p in stale)
    listed = re.search(r"wrote \d+ files to \S+: (.*)", proc.stdout)[1].split(", ")
    on_disk = sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and "runs" not in p.parts
    )
    assert sorted(listed) == on_disk
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("summary.json")}
    with open(out / "runs.csv") as handle:  # run directories relative to the report, which moved in place
        assert all((out / row["run_dir"] / "summary.json").exists() for row in csv.DictReader(handle))


def test_offpolicy_keys_added_later_change_only_the_hashes_of_the_algorithms_that_read_them():
    """Runs made before `offpolicy.normalize_state` / `bootstrap_truncated` existed keep their
    identity unless they are QMIX runs, whose results the new defaults change."""
    from baselines.config import resolve

    for algo, task, changes in (("mappo", "mpe2/simple_spread", False), ("qmix", "mpe2/simple_spread", True)):
        config, _ = resolve(algo, task, "mpe2")
        new = config.to_dict()
        old = {
            **new,
            "offpolicy": {
                k: v
                for k, v in new["offpolicy"].items()
                if k not in ("normalize_state", "bootstrap_truncated")
            },
        }
        assert (config_hash(new) != config_hash(old)) == changes, algo
        off = {**new, "offpolicy": {**new["offpolicy"], "normalize_state": False}}
        assert config_hash(off) != config_hash(new)  # a value other than the default always counts


def test_headline_table_replaces_only_the_marked_block(tmp_path):
    """The top-level README's headline tables come from the runs, like every other table: the
    build rewrites the block between the suite's markers and nothing else."""
    task = _constrained_task({"macpo": 10.0, "mappo_l": 20.0}, {"macpo": 12.0, "mappo_l": 59.4})
    aggregate_module._normalisation(task, {"min": "random", "max": "best"})
    task.best = {m: aggregate_module._best(task, m) for m in task.metrics}
    suite = parse_suite(
        yaml.safe_load("name: s\ngroups: [{tasks: [safe/x], algorithms: [macpo, mappo_l]}]"), Path("s.yaml")
    )
    board = aggregate_module.Leaderboard(suite, ["macpo", "mappo_l"], [task], [], [], {}, {})
    board.aggregate = aggregate_module._aggregate([task], board.algorithms, reps=50, seed=0)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- headline:s -->\nstale row\n<!-- /headline:s -->\nrest\n")
    assert update_readme(readme, board, "leaderboards/s/README.md")
    text = readme.read_text()
    assert text.startswith("intro\n<!-- headline:s -->\n") and text.endswith("<!-- /headline:s -->\nrest\n")
    assert "stale row" not in text and "(leaderboards/s/README.md)" in text
    # the per-task means, the best within the cost limit in bold (as in the suite's README)
    assert "| `safe/x` | 800 | 1 of 1 | **10.00** | 20.00 |" in text
    assert "| normalised IQM [95% CI] |  |  | 1.00 [1.00, 1.00] | 2.00 [2.00, 2.00] |" in text
    assert update_readme(readme, board, "x") and readme.read_text().count("<!-- headline:s -->") == 1
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers\n")
    assert not update_readme(plain, board, "x") and plain.read_text() == "no markers\n"


def test_help_lists_every_shipped_suite(capsys):
    with pytest.raises(SystemExit):
        build.main(["--help"])
    listed = capsys.readouterr().out.split("suites: ")[1].split("\n")[0].split(", ")
    assert listed == sorted(p.stem for p in (Path(build.__file__).parent / "suites").glob("*.yaml"))
    assert {"mamujoco-laptop", "smax-laptop", "mpe-laptop", "smoke"} <= set(listed)
