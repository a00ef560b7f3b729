"""`log.wandb=true`: an offline Weights & Biases run in RUN_DIR/wandb with the progress scalars,
the config, the manifest and the training videos; a resume continues it; without the wandb
package the run refuses to start and says how to install it."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from baselines.run import main as train

HAS_WANDB = importlib.util.find_spec("wandb") is not None
HAS_VIDEO = importlib.util.find_spec("imageio_ffmpeg") is not None
RUN = [
    "--env",
    "mpe2/simple_spread",
    "--algo",
    "mappo",
    "--steps",
    "20",
    "--num-envs",
    "2",
    "--set",
    "env_kwargs.max_cycles=5",
    "--set",
    "rollout.length=5",
    "--set",
    "model.hidden_sizes=[16]",
    "--set",
    "train.ppo_epoch=1",
    "--set",
    "train.critic_epoch=1",
    "--set",
    "eval.episodes=2",
    "--set",
    "eval.num_envs=2",
    "--set",
    "checkpoint_interval=1",
    "--set",
    "log.wandb=true",
    "--set",
    "log.wandb_project=marlsuite-tests",
    "--set",
    "log.wandb_group=smoke",
    "--set",
    "log.wandb_tags=[tiny,offline]",
]


@pytest.fixture
def offline(tmp_path, monkeypatch) -> None:
    """wandb offline, its settings and caches kept in the test's folder."""
    if not HAS_WANDB:
        pytest.skip("wandb is not installed: pip install -e '.[wandb]'")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb_home" / name.lower()))


@pytest.fixture
def offline_run(tmp_path, offline) -> Path:
    """Two iterations logged to W&B offline, with a training video at the second."""
    out = tmp_path / "run"
    video = ["--set", "log.video_interval=2"] if HAS_VIDEO else []
    assert train_and_flush([*RUN, "--out", str(out), *video]) == 0
    return out


def train_and_flush(argv: list[str]) -> int:
    """Train, then wait for wandb's service to finish writing the run's files (it may still be
    writing them when `run.finish()` returns)."""
    import wandb

    code = train(argv)
    wandb.teardown()
    return code


def offline_runs(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "wandb").glob("offline-run-*"))


def test_offline_mode_writes_the_run_into_the_run_directory(offline_run):
    run_id = (offline_run / "wandb_id.txt").read_text().strip()
    [folder] = offline_runs(offline_run)
    assert folder.name.endswith(run_id)
    records = (folder / f"run-{run_id}.wandb").read_bytes()  # the run's transaction log
    # the progress scalars under TensorBoard's names, the config, the manifest, the options
    for text in (
        "eval/return",
        "train/return",
        "update/value_loss",
        "iteration",
        "speed/env_steps_per_second",
    ):
        assert text.encode() in records, text
    for text in ("video_interval", "hidden_sizes", "manifest", "git_commit", "packages"):
        assert text.encode() in records, text
    for text in ("marlsuite-tests", "smoke", "tiny", "offline", "mpe2/simple_spread/mappo/seed0"):
        assert text.encode() in records, text


@pytest.mark.skipif(
    not HAS_VIDEO, reason="training videos need imageio-ffmpeg: pip install imageio imageio-ffmpeg"
)
def test_training_videos_go_to_wandb(offline_run):
    [folder] = offline_runs(offline_run)
    videos = list((folder / "files" / "media" / "videos").rglob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0
    assert (offline_run / "videos" / "iter2.mp4").exists()


def test_a_resumed_run_continues_its_wandb_run(offline_run):
    run_id = (offline_run / "wandb_id.txt").read_text().strip()
    assert train_and_flush(["--resume", str(offline_run)]) == 0
    assert (offline_run / "wandb_id.txt").read_text().strip() == run_id
    folders = offline_runs(offline_run)
    # a session that starts in the same second as the last one gets wandb's "-1" suffix
    same_run = re.compile(rf"offline-run-\d{{8}}_\d{{6}}-{re.escape(run_id)}(-\d+)?")
    assert len(folders) == 2 and all(same_run.fullmatch(f.name) for f in folders), folders
    resumed = (folders[1] / f"run-{run_id}.wandb").read_bytes()
    assert b"manifest_resume2" in resumed  # this session's manifest, beside the first one


def test_wandb_options_are_checked(tmp_path, capsys):
    argv = [*RUN, "--out", str(tmp_path / "r"), "--set", "log.wandb_tags=tiny"]
    assert train(argv) == 2
    assert "log.wandb_tags must be a list of non-empty strings" in capsys.readouterr().err


def test_without_wandb_the_run_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)  # as if it were not installed
    out = tmp_path / "r"
    assert train([*RUN, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "log.wandb=true needs the wandb package" in err and "[wandb]" in err and "pip install" in err
    assert not out.exists()  # refused before anything was written
