"""`python -m leaderboards.compare_run`: a run's training returns beside a published curve."""

from __future__ import annotations

import json

import pytest

from leaderboards.compare_run import main

# leaderboards/reference/bidexhands/shadow_hand_over_happo_test_rew_10seeds.csv, first rows
# (PKU-MARL/DexterousHands dataset): env_step 80281.6 -> rew 1.2242, 627507.2 -> 2.9709
FIRST, SECOND = (80281.6, 1.2242), (627507.2, 2.9709)


def fake_run(tmp_path, rows):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("algo: happo\nenv: bidexhands/ShadowHandOver\n")
    lines = ["iteration,env_steps,episodes,train_return"]
    lines += [f"{i + 1},{steps},{episodes},{ret}" for i, (steps, episodes, ret) in enumerate(rows)]
    (run / "progress.csv").write_text("\n".join(lines) + "\n")
    return run


def test_windows_weight_iterations_by_episodes_and_interpolate_the_published_mean(tmp_path, capsys):
    # two windows of 400,000 steps; the first holds 10 episodes of 1.0 and 30 of 3.0 (mean 2.5),
    # an iteration without endings counts for nothing; the second 5 episodes of 4.0
    run = fake_run(tmp_path, [(100_000, 10, 1.0), (200_000, 10, ""), (300_000, 40, 3.0), (800_000, 45, 4.0)])
    out = tmp_path / "cmp.json"
    assert main([str(run), "--windows", "2", "--out", str(out)]) == 0
    windows = json.loads(out.read_text())["windows"]
    assert windows[0]["ours"] == pytest.approx(2.5) and windows[0]["episodes"] == 40
    assert windows[1]["ours"] == pytest.approx(4.0) and windows[1]["episodes"] == 5
    middle = 200_000.0  # the first window's middle, between the first two published points
    expected = FIRST[1] + (SECOND[1] - FIRST[1]) * (middle - FIRST[0]) / (SECOND[0] - FIRST[0])
    assert windows[0]["published"] == pytest.approx(expected, rel=1e-6)
    assert "| 0-400,000 | 2.50 (40) |" in capsys.readouterr().out


def test_bad_input_says_what_is_wrong(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    run = fake_run(tmp_path, [(1000, 1, 1.0)])
    assert main([str(run), "--reference", "nope"]) == 2
    assert "unknown reference 'nope'" in capsys.readouterr().err
    assert main([str(run), "--algo", "qmix"]) == 2
    assert "no qmix curve" in capsys.readouterr().err
