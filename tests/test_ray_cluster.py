"""The Ray launcher on a multi-node cluster on this machine (tests/ray_nodes.py): a node lost
mid-run costs only the work since the last checkpoint that reached the head, a node with other
package versions is refused, runs stream to a storage URI; and the run store on its own."""

from __future__ import annotations

import importlib.metadata
import json
import re
import threading
import time
from pathlib import Path

import pytest
import yaml

from leaderboards import build
from leaderboards.run_store import FsStore, Syncer, send_order

ray = pytest.importorskip("ray")
from ray_nodes import local_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def suite_file(tmp_path: Path, steps: int, **extra) -> str:
    """MAPPO on MPE simple_spread, one seed; exact_resume so a resume equals an uninterrupted run."""
    data = {
        "name": "cluster",
        "seeds": [0],
        "steps": steps,
        "overrides": {
            "num_envs": 4,
            "rollout": {"length": 50},
            "eval": {"interval": 20, "episodes": 4, "num_envs": 4},
            "log": {"tensorboard": False, "interval": 20},
            "checkpoint_interval": 5,  # 250 steps per copy, at least the 25-step episode
            "exact_resume": True,
        },
        "random_reference": {"episodes": 4, "seed": 0},
        "bootstrap": {"reps": 200, "seed": 0},
        "estimate": {"steps_per_second": 800, "source": "MPE MAPPO on this machine"},
        "groups": [{"name": "MPE", "tasks": ["mpe2/simple_spread"], "algorithms": ["mappo"]}],
        **extra,
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def train_run(out: Path) -> Path:
    return next((out / "runs").glob("mpe2__simple_spread/mappo/seed0-*"))


def in_thread(args: list[str]) -> tuple[threading.Thread, dict[str, int]]:
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", build.main(args)), daemon=True)
    thread.start()
    return thread, result


def test_a_lost_node_costs_only_the_work_since_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    """Three worker nodes with their own scratch directories and no shared files. When the run
    has sent its second checkpoint to the head, its node is killed; the run goes on from that
    checkpoint on another node, and its progress.csv and the tables equal an uninterrupted build's.

    The head works outside the checkout: Ray puts a driver's working directory on its workers'
    path, which on one machine would hand them the checkout instead of the shipped code."""
    monkeypatch.chdir(tmp_path)
    suite = suite_file(tmp_path, steps=12_000)  # 60 iterations, a checkpoint every 5
    local = tmp_path / "local"
    assert build.main([suite, "--workers", "1", "--out", str(local)]) == 0
    out = tmp_path / "cluster"
    with local_cluster() as cluster:
        workers = {cluster.add_worker(f"node{i}", tmp_path / "scratch") for i in range(3)}
        assert build.main([suite, "--launcher", "ray", "--address", cluster.address, "--dry-run"]) == 0
        plan = capsys.readouterr().out
        assert "Ray cluster: 4 live node(s), 3 run(s) at once" in plan  # the head runs nothing
        assert plan.count("1 CPU, 0 GPU -> 1 at once") == 3 and "0 CPU, 0 GPU -> 0 at once" in plan

        thread, result = in_thread(
            [
                suite,
                "--launcher",
                "ray",
                "--address",
                cluster.address,
                "--sync-seconds",
                "0.5",
                "--out",
                str(out),
            ]
        )
        lost = None
        deadline = time.monotonic() + 240
        while lost is None and thread.is_alive() and time.monotonic() < deadline:
            runs = list((out / "runs").glob("mpe2__simple_spread/mappo/seed0-*"))
            if runs and (runs[0] / "progress.csv").exists() and (runs[0] / "launcher.log").exists():
                rows = (runs[0] / "progress.csv").read_text().count("\n") - 1
                first = re.search(r"attempt 1 on node (\w+)", (runs[0] / "launcher.log").read_text())
                if first and rows >= 11 and not (runs[0] / "summary.json").exists():
                    lost = first.group(1)
                    cluster.remove(lost)
                    rows_at_loss = rows
            time.sleep(0.2)
        assert lost is not None, "the run finished (or never started) before its node could be removed"
        assert lost in workers
        thread.join(timeout=300)
        assert not thread.is_alive() and result["code"] == 0
    run = train_run(out)
    log = (run / "launcher.log").read_text()
    assert "attempt 1 lost (NodeDiedError" in log
    second = re.search(r"attempt 2 on node (\w+) \(.*\), resuming from its last checkpoint", log)
    assert second and second.group(1) != lost and second.group(1) in workers
    resumed_at = int(re.search(r"resumed at iteration (\d+)", (run / "train.log").read_text()).group(1))
    assert resumed_at >= 10 and resumed_at % 5 == 0 and resumed_at <= rows_at_loss
    print(
        f"node lost after {rows_at_loss} of 60 iterations; resumed at {resumed_at}: {rows_at_loss - resumed_at} redone"
    )
    # bit for bit the uninterrupted run, and the same tables
    assert (run / "progress.csv").read_bytes() == (train_run(local) / "progress.csv").read_bytes()
    board, local_board = (json.loads((d / "leaderboard.json").read_text()) for d in (out, local))
    assert board["tasks"] == local_board["tasks"] and board["aggregate"] == local_board["aggregate"]
    # the live nodes cleaned up their scratch directories
    for node in workers - {lost}:
        assert not list((cluster.scratch[node]).glob("marlsuite-run-*"))
    # the code came from the head through Ray, not from a checkout on the node, and says which commit
    manifest = json.loads((run / "manifest.json").read_text())
    assert "runtime_resources" in manifest["command"] and str(ROOT) not in manifest["command"]
    from envs.manifest import git_commit

    assert manifest["git_commit"] == git_commit(ROOT)


def test_a_node_with_other_versions_is_refused_then_runs_stream_to_a_storage_uri(
    tmp_path, capsys, monkeypatch
):
    """A node whose pettingzoo reports another version (a dist-info first on its path) stops the
    build before any run, naming the package and the fix. With that node replaced, the suite
    runs with its files sent to a storage URI, from which the head takes the results."""
    stale = tmp_path / "stale_site"
    (stale / "pettingzoo-1.0.0.dist-info").mkdir(parents=True)
    (stale / "pettingzoo-1.0.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pettingzoo\nVersion: 1.0.0\n"
    )
    monkeypatch.chdir(tmp_path)
    suite = suite_file(tmp_path, steps=800)
    out = tmp_path / "cluster"
    head_version = importlib.metadata.version("pettingzoo")
    with local_cluster() as cluster:
        bad = cluster.add_worker("stale", tmp_path / "scratch", pythonpath=str(stale))
        args = [suite, "--launcher", "ray", "--address", cluster.address, "--out", str(out)]
        assert build.main(args) == 2
        err = capsys.readouterr().err
        assert f"pettingzoo: 1.0.0 on the node, {head_version} on the head" in err
        assert f"pip install pettingzoo=={head_version}" in err and bad in err
        assert not list(out.glob("runs/*/*/*/summary.json"))

        cluster.remove(bad)
        cluster.add_worker("fresh", tmp_path / "scratch")
        store = tmp_path / "store"
        assert build.main([*args, "--storage", store.as_uri(), "--sync-seconds", "0.5"]) == 0
    run = train_run(out)
    stored = store / run.relative_to(out)
    for name in ("summary.json", "progress.csv", "checkpoints/latest.pt", "launcher.log"):
        assert (stored / name).read_bytes() == (run / name).read_bytes(), name


# ----------------------------------------------------------------- the store


def test_syncer_sends_changed_files_checkpoints_first_and_progress_last(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "progress.csv").write_text("iteration\n1\n")
    (run / "checkpoints" / "latest.pt").write_bytes(b"weights")
    (run / "config.yaml").write_text("seed: 0\n")
    sent: list[list[str]] = []
    syncer = Syncer(run, lambda files: sent.append(list(files)), interval=60)
    syncer.sync()
    assert sent == [["checkpoints/latest.pt", "config.yaml", "progress.csv"]]
    syncer.sync()
    assert len(sent) == 1  # nothing changed, nothing sent
    (run / "progress.csv").write_text("iteration\n1\n2\n")
    syncer.sync()
    assert sent[-1] == ["progress.csv"]
    assert sorted(["summary.json", "progress.csv", "checkpoints/a.pt"], key=send_order) == [
        "checkpoints/a.pt",
        "progress.csv",
        "summary.json",
    ]


def test_fs_store_round_trip_and_snapshot(tmp_path):
    store = FsStore((tmp_path / "store").as_uri())
    assert store.snapshot("runs/a") is None and not store.has_files("runs/a")
    store.put("runs/a", {"checkpoints/latest.pt": b"\x00\x01", "progress.csv": b"iteration\n"})
    assert store.has_files("runs/a") and not store.has_files("runs/b")
    store.put("runs/a", {"progress.csv": b"iteration\n1\n"})  # replaces
    assert store.files("runs/a") == {"checkpoints/latest.pt": b"\x00\x01", "progress.csv": b"iteration\n1\n"}
    assert not list((tmp_path / "store").rglob("*.part"))
    target = tmp_path / "back"
    store.download("runs/a", target)
    assert (target / "progress.csv").read_text() == "iteration\n1\n"
    from leaderboards.run_store import unpack

    unpack(store.snapshot("runs/a"), tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / "checkpoints" / "latest.pt").read_bytes() == b"\x00\x01"


def test_versions_compare_releases_and_name_both_sides():
    from leaderboards.ray_launcher import install_hint, version_mismatches

    head = {"torch": "2.13.0+cpu", "numpy": "2.4.6", "jax": "0.10.2", "python": "3.11.7"}
    gpu_node = {"torch": "2.13.0+cu128", "numpy": "2.4.6", "jax": "0.10.2", "python": "3.11.7"}
    assert version_mismatches(head, gpu_node) == []  # one release, CPU and CUDA builds
    stale = {"torch": "2.12.1", "numpy": "2.4.6", "gfootball": "2.10.2", "python": "3.11.7"}
    assert version_mismatches(head, stale) == [
        "gfootball: 2.10.2 on the node, not installed on the head",
        "jax: not installed on the node, 0.10.2 on the head",
        "torch: 2.12.1 on the node, 2.13.0+cpu on the head",
    ]
    assert install_hint(head, stale) == "pip install jax==0.10.2 torch==2.13.0"
