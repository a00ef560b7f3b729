"""`python -m baselines.evaluate` on tiny trained runs: it reproduces the trainer's own final
evaluation, writes its JSON and an MP4 of real frames, and refuses bad input before playing."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from baselines.evaluate import FRESH_SEED_OFFSET, main
from baselines.run import main as train
from baselines.trainer import EVAL_SEED_OFFSET

SAFE_TASK = "safe_mamujoco/SafeHopper3x1Obstacle"  # renders, and has costs
TINY = [
    "--algo",
    "mappo",
    "--steps",
    "60",
    "--num-envs",
    "2",
    "--set",
    "rollout.length=15",
    "--set",
    "eval.episodes=3",
    "--set",
    "eval.num_envs=2",
    "--set",
    "model.hidden_sizes=[16]",
    "--set",
    "train.ppo_epoch=1",
    "--set",
    "train.critic_epoch=1",
    "--set",
    "train.critic_minibatches=1",
    "--set",
    "log.tensorboard=false",
]


@pytest.fixture(scope="module")
def safe_run(tmp_path_factory) -> Path:
    """Two iterations of MAPPO on a Safe MaMuJoCo Hopper with 12-step episodes."""
    pytest.importorskip("mujoco")
    pytest.importorskip("gymnasium_robotics")
    out = tmp_path_factory.mktemp("evaluate") / "safe"
    argv = ["--env", SAFE_TASK, "--out", str(out), *TINY, "--set", "env_kwargs.max_episode_steps=12"]
    assert train(argv) == 0
    return out


@pytest.fixture(scope="module")
def mpe_run(tmp_path_factory) -> Path:
    """One iteration on simple_spread (a task without costs or info keys; it renders since MPE frames
    pass through the PettingZoo adapter; a task that cannot render: tests/test_render.py)."""
    out = tmp_path_factory.mktemp("evaluate") / "mpe"
    argv = ["--env", "mpe2/simple_spread", "--out", str(out), *TINY, "--set", "rollout.length=25"]
    argv[argv.index("--steps") + 1] = "50"
    assert train(argv) == 0
    return out


def report(run_dir: Path, name: str) -> dict:
    return json.loads((run_dir / "eval" / name).read_text())


def test_the_trainers_seeds_reproduce_its_final_evaluation(safe_run, capsys):
    summary = json.loads((safe_run / "summary.json").read_text())
    seed = summary["seed"] + EVAL_SEED_OFFSET + summary["iterations"]  # Trainer.evaluate's reset seed
    argv = [
        str(safe_run),
        "--checkpoint",
        "latest",
        "--seed",
        str(seed),
        "--episodes",
        "3",
        "--num-envs",
        "2",
    ]
    assert main(argv) == 0
    again = report(safe_run, f"latest-{seed}.json")
    final = summary["final"]
    assert again["metrics"]["return"]["mean"] == pytest.approx(final["eval_return"], rel=1e-6)
    assert again["metrics"]["length"]["mean"] == pytest.approx(final["eval_length"])
    assert again["metrics"]["cost"]["mean"] == pytest.approx(final["eval_cost"], abs=1e-6)
    assert "evaluating: 3/3 episodes" in capsys.readouterr().err
    # other seeds start the Hopper elsewhere: the match above is not a coincidence
    assert main([str(safe_run), "--checkpoint", "latest", "--episodes", "3", "--num-envs", "2"]) == 0
    fresh = report(safe_run, f"latest-{summary['seed'] + FRESH_SEED_OFFSET}.json")
    assert fresh["per_episode"]["return"] != again["per_episode"]["return"]


def test_the_json_holds_statistics_episodes_settings_and_manifest(safe_run, capsys):
    assert main([str(safe_run), "--episodes", "4", "--num-envs", "2", "--seed", "11"]) == 0
    printed = capsys.readouterr().out
    assert "return" in printed and "±" in printed and "IQM" in printed and "95% CI" in printed
    assert "cost" in printed and "best-11.json" in printed
    data = report(safe_run, "best-11.json")
    assert data["task"] == SAFE_TASK and data["algo"] == "mappo" and data["episodes"] == 4
    assert data["checkpoint"]["name"] == "best" and data["checkpoint"]["iteration"] == 2
    assert data["settings"] == {
        "episodes": 4,
        "seed": 11,
        "deterministic": True,
        "num_envs": 2,
        "device": "cpu",
        "video": None,
        "video_episodes": None,
        "video_frames": None,
        "video_size": None,
        "video_fps": None,
    }
    assert set(data["metrics"]) == set(data["per_episode"]) == {"return", "length", "cost"}
    returns = data["per_episode"]["return"]
    assert len(returns) == 4 and data["metrics"]["return"]["n"] == 4
    assert data["metrics"]["return"]["mean"] == pytest.approx(sum(returns) / 4)
    iqm = data["metrics"]["return"]["iqm"]
    assert min(returns) <= iqm["low"] <= iqm["value"] <= iqm["high"] <= max(returns)
    assert data["metrics"]["return"]["std"] > 0
    manifest = data["manifest"]
    assert manifest["kind"] == "evaluation" and manifest["seed"] == 11 and "torch" in manifest["packages"]
    assert "git_commit" in manifest and manifest["checkpoint"].endswith("best.pt")
    # sampled actions go to their own file and differ from the modal ones
    assert main([str(safe_run), "--episodes", "4", "--num-envs", "2", "--seed", "11", "--stochastic"]) == 0
    sampled = report(safe_run, "best-11-stochastic.json")
    assert sampled["settings"]["deterministic"] is False and sampled["per_episode"]["return"] != returns


def test_the_video_has_a_frame_per_step_of_copy_0s_episodes(safe_run, tmp_path, monkeypatch, capsys):
    iio = pytest.importorskip("imageio.v3")
    pytest.importorskip("imageio_ffmpeg")
    monkeypatch.setenv("MUJOCO_GL", os.environ.get("MUJOCO_GL", "egl"))
    video = tmp_path / "clips" / "hopper.mp4"  # the folder is made
    argv = [str(safe_run), "--episodes", "2", "--num-envs", "1", "--seed", "5", "--video", str(video)]
    code = main([*argv, "--video-episodes", "2", "--video-size", "64x48"])
    err = capsys.readouterr().err
    if code != 0 and "OpenGL context" in err:
        pytest.skip(f"no offscreen OpenGL context here: {err.strip()}")
    assert code == 0, err
    data = report(safe_run, "best-5.json")
    frames = iio.imread(video)  # every frame, stacked
    # one copy: its first two episodes are the evaluated ones, one frame per step of each
    expected = int(sum(data["per_episode"]["length"]))
    assert frames.shape == (expected, 48, 64, 3)
    assert data["settings"]["video_frames"] == expected and data["settings"]["video_size"] == [64, 48]
    assert frames.std() > 1.0  # a scene, not a blank image
    assert not list(video.parent.glob("*.partial.mp4"))


def test_a_gif_has_the_same_frames(safe_run, tmp_path, monkeypatch, capsys):
    iio = pytest.importorskip("imageio.v3")
    pytest.importorskip("imageio_ffmpeg")
    monkeypatch.setenv("MUJOCO_GL", os.environ.get("MUJOCO_GL", "egl"))
    gif = tmp_path / "hopper.gif"
    argv = [str(safe_run), "--episodes", "1", "--num-envs", "1", "--seed", "6", "--video", str(gif)]
    code = main([*argv, "--video-size", "64x48"])
    err = capsys.readouterr().err
    if code != 0 and "OpenGL context" in err:
        pytest.skip(f"no offscreen OpenGL context here: {err.strip()}")
    assert code == 0, err
    frames = iio.imread(gif)
    expected = int(sum(report(safe_run, "best-6.json")["per_episode"]["length"]))
    assert frames.shape[:3] == (expected, 48, 64) and frames.std() > 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoint", "nowhere.pt"], "is neither best nor latest nor an existing file"),
        (["--video", "{tmp}/clip.avi"], "give a path ending in .mp4 or .gif"),
        (["--video", "{tmp}/a_file/clip.mp4"], "cannot write the video to"),
        (["--video", "{tmp}/folder.mp4"], "is a directory"),
    ],
)
def test_bad_input_fails_before_any_episode(safe_run, tmp_path, capsys, args, message):
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "folder.mp4").mkdir()
    before = sorted((safe_run / "eval").glob("*")) if (safe_run / "eval").exists() else []
    assert main([str(safe_run), "--seed", "99", *(a.format(tmp=tmp_path) for a in args)]) == 2
    assert message in capsys.readouterr().err
    after = sorted((safe_run / "eval").glob("*")) if (safe_run / "eval").exists() else []
    assert after == before


def test_a_missing_checkpoint_names_the_ones_there(safe_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(safe_run, run)
    (run / "checkpoints" / "best.pt").unlink()
    assert main([str(run)]) == 2
    err = capsys.readouterr().err
    assert f"no checkpoint {run / 'checkpoints' / 'best.pt'}" in err and "checkpoints there: latest.pt" in err


def test_a_folder_without_config_is_not_a_run(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "is not a run directory (no config.yaml)" in capsys.readouterr().err


def test_another_runs_checkpoint_is_refused(safe_run, mpe_run, capsys):
    other = mpe_run / "checkpoints" / "latest.pt"
    assert main([str(safe_run), "--checkpoint", str(other)]) == 2
    assert "give a checkpoint of this run" in capsys.readouterr().err


def test_video_without_imageio_ffmpeg_says_how_to_install_it(mpe_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if it were not installed
    assert main([str(mpe_run), "--video", str(tmp_path / "spread.mp4")]) == 2
    err = capsys.readouterr().err
    assert "missing: imageio_ffmpeg" in err and "[video]" in err and "pip install" in err


def test_bad_video_size_is_refused_by_the_parser(mpe_run, capsys):
    with pytest.raises(SystemExit):
        main([str(mpe_run), "--video", "x.mp4", "--video-size", "63x48"])
    assert "even sides" in capsys.readouterr().err
