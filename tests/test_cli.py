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


def test_check_runs_tasks_that_take_no_vector_option(capsys):
    """The matrix game (and the README's task) have no `vector` option: check must not pass one."""
    assert main(["check", "baselines.matrix_game:matrix/two_step"]) == 0
    assert "matrix/two_step: passed check_env (2 copies)" in capsys.readouterr().out
    assert main(["check", "mpe2/simple_spread", "--vector", "subproc", "--steps", "10"]) == 0
    assert "subproc vector" in capsys.readouterr().out
    # asked of a task that cannot take it: a clear error naming the option, not a traceback
    assert main(["check", "baselines.matrix_game:matrix/two_step", "--vector", "subproc"]) == 2
    assert "does not take the option 'vector'" in capsys.readouterr().err


def test_list_marks_only_what_is_missing_here(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SC2PATH", str(tmp_path / "no_game_here"))
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "[needs" not in lines["bidexhands/ShadowHandOver"]  # the hands extra is installed here
    assert "[needs" not in lines["mpe2/simple_spread"]
    assert lines["smac/3m"].endswith("[needs smac and the StarCraft II game]")
    assert lines["smacv2/10gen_protoss_5v5"].endswith("[needs smacv2 and the StarCraft II game]")
    # hide MuJoCo Warp: the hand tasks are then marked, with the install command at the end
    monkeypatch.setitem(sys.modules, "mujoco_warp", None)
    assert main(["list", "--family", "bidexhands"]) == 0
    out = capsys.readouterr().out
    assert out.count("[needs marlsuite[hands]]") == out.count("bidexhands/")
    assert "runnable here" in out and "marlsuite[hands]: pip install" in out
