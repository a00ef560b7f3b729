"""`python -m envs`: list, check and a rollout that writes a reproducible run directory."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from envs.__main__ import main


def test_list_prints_every_task_with_its_family(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mpe2/simple_spread" in out and "mpe2/simple_speaker_listener" in out and "mpe2" in out


def test_unknown_task_is_a_clear_error_with_exit_code_2(capsys):
    assert main(["check", "mpe2/simple_sprad"]) == 2
    assert "did you mean mpe2/simple_spread" in capsys.readouterr().err


def test_rollout_writes_episodes_summary_config_and_manifest(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "envs",
            "rollout",
            "--env",
            "mpe2/simple_reference",
            "--num-envs",
            "2",
            "--episodes",
            "6",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "episodes     6/6" in result.stdout
    with open(out / "episodes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and all(float(r["episode_length"]) == 25 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    mean = sum(float(r["episode_return"]) for r in rows) / 6
    assert abs(summary["episode_return"]["mean"] - mean) < 1e-9
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and "torch" in manifest["packages"] and "git_commit" in manifest
    assert json.loads((out / "config.json").read_text())["env"] == "mpe2/simple_reference"


def test_rollout_is_reproducible(tmp_path):
    for name in ("a", "b"):
        assert (
            main(
                [
                    "rollout",
                    "--env",
                    "mpe2/simple_spread",
                    "--num-envs",
                    "2",
                    "--episodes",
                    "4",
                    "--seed",
                    "7",
                    "--out",
                    str(tmp_path / name),
                ]
            )
            == 0
        )
    assert (tmp_path / "a" / "episodes.csv").read_text() == (tmp_path / "b" / "episodes.csv").read_text()
