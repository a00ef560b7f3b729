"""RGB frames of MPE, SMAX and Football, videos of them through `baselines.evaluate --video`, and
training videos (`log.video_interval`): files, frame counts, TensorBoard, and the clear errors.

The MuJoCo families' frames are tested in test_safe_mamujoco.py, test_bidexhands.py and
test_evaluate.py.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import baselines.matrix_game  # noqa: F401 - registers matrix/two_step, a task that draws nothing
import envs
from baselines.evaluate import main as evaluate
from baselines.run import main as train

NO_GFOOTBALL = "gfootball is not installed: run `bash scripts/install_football.sh` (builds it from source)"
VIDEO_MODULES_MISSING = importlib.util.find_spec("imageio_ffmpeg") is None
TINY = [
    "--algo",
    "mappo",
    "--num-envs",
    "2",
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
]
SPREAD = [
    *TINY,
    "--env",
    "mpe2/simple_spread",
    "--set",
    "env_kwargs.max_cycles=5",
    "--set",
    "rollout.length=5",
]
TWO_STEP = [*TINY, "--env", "matrix/two_step", "--set", "rollout.length=2", "--steps", "4"]


def assert_drawn(frame: np.ndarray, shape: tuple[int, int, int]) -> None:
    assert frame.shape == shape and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 2  # more than a background and one colour


def changed(a: np.ndarray, b: np.ndarray) -> int:
    """How many pixels differ between two frames."""
    return int((a != b).any(axis=2).sum())


def random_actions(env: envs.MultiAgentEnv, timestep: envs.TimeStep, generator: torch.Generator) -> dict:
    """A uniformly random action per agent and copy among those its mask allows."""
    n = env.spec.num_envs
    actions = {}
    for agent, space in env.spec.action_spaces.items():
        mask = timestep.action_mask[agent] if timestep.action_mask is not None else torch.ones(n, space.n)
        actions[agent] = torch.multinomial(mask.float(), 1, generator=generator).squeeze(1)
    return actions


# ------------------------------------------------------------------------------------ MPE


@pytest.mark.parametrize("vector", ["sync", "subproc"])
def test_mpe_passes_mpe2s_own_frames_through(vector):
    with envs.make("mpe2/simple_spread", num_envs=2, seed=0, vector=vector, render_mode="rgb_array") as env:
        assert env.spec.metadata["render_modes"] == ("rgb_array",) and env.spec.metadata["render_fps"] == 10
        timestep = env.reset()
        first = env.render(1)
        assert_drawn(first, (700, 700, 3))  # mpe2 draws at its own size
        assert changed(env.render(0), first) > 100  # copies start from different seeds
        generator = torch.Generator().manual_seed(0)
        for _ in range(3):
            timestep = env.step(random_actions(env, timestep, generator))
        assert changed(env.render(1), first) > 100  # the agents moved


def test_mpe_made_without_render_mode_says_how_to_render():
    with envs.make("mpe2/simple_spread", seed=0) as env:
        assert env.spec.metadata["render_modes"] == ("rgb_array",)  # the task can draw ...
        env.reset()
        with pytest.raises(RuntimeError, match="render_mode='rgb_array'"):  # ... when made to
            env.render(0)
        with pytest.raises(IndexError, match="out of range"):
            env.render(1)


# ----------------------------------------------------------------------------------- SMAX


@pytest.fixture(scope="module")
def smax():
    pytest.importorskip("jax", reason="SMAX needs jax: pip install 'marlsuite[smax]'")
    pytest.importorskip("jaxmarl", reason="SMAX needs jaxmarl: pip install 'marlsuite[smax]'")
    with envs.make("smax/3m", num_envs=2, seed=0) as env:
        yield env


def test_smax_draws_units_health_and_attacks(smax):
    with pytest.raises(RuntimeError, match="call reset"):
        smax.render(0)
    timestep = smax.reset(seed=0)
    assert smax.spec.metadata["render_modes"] == ("rgb_array",) and smax.spec.metadata["control_dt"] == 0.5
    first = smax.render(1, width=240, height=160)
    assert_drawn(first, (160, 240, 3))
    red, green, blue = (first[:, :, i].astype(int) for i in range(3))
    assert ((blue > red + 80) & (blue > green + 60)).sum() > 20  # the allies' blue discs
    assert ((red > blue + 80) & (red > green + 80)).sum() > 20  # the enemies' red ones
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        timestep = smax.step(random_actions(smax, timestep, generator))
    assert changed(smax.render(1, width=240, height=160), first) > 20
    assert smax.render(0).shape == (480, 480, 3)


def test_smax_refuses_bad_render_arguments(smax):
    smax.reset(seed=0)
    with pytest.raises(IndexError, match="out of range"):
        smax.render(2)
    with pytest.raises(ValueError, match="at least 16 pixels"):
        smax.render(0, width=8, height=64)


# ------------------------------------------------------------------------------- Football


@pytest.mark.skipif(importlib.util.find_spec("gfootball") is None, reason=NO_GFOOTBALL)
def test_football_draws_the_pitch_players_and_ball():
    task = "football/academy_empty_goal_close"
    with envs.make(task, seed=0, vector="sync", render_mode="rgb_array", width=96, height=64) as env:
        assert env.spec.metadata["render_modes"] == ("rgb_array",)
        env.reset()
        first = env.render(0)
        assert_drawn(first, (64, 96, 3))
        right = torch.full((1,), 5, dtype=torch.int64)  # gfootball's action 5: run right
        for _ in range(10):
            env.step({a: right for a in env.spec.agents})
        assert changed(env.render(0), first) > 5
    with envs.make(task, seed=0, vector="sync") as env:
        env.reset()
        with pytest.raises(RuntimeError, match="render_mode='rgb_array'"):
            env.render(0)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        envs.make(task, render_mode="human")


# ------------------------------------------------------------------- evaluate and training


def read_video(path: Path) -> np.ndarray:
    iio = pytest.importorskip("imageio.v3")
    return iio.imread(path)  # every frame, stacked


@pytest.fixture(scope="module")
def spread_run(tmp_path_factory) -> Path:
    """Two iterations on simple_spread (5-step episodes) with a video every iteration."""
    if VIDEO_MODULES_MISSING:
        pytest.skip("videos need imageio-ffmpeg: pip install imageio imageio-ffmpeg")
    out = tmp_path_factory.mktemp("render") / "spread"
    assert train([*SPREAD, "--steps", "20", "--out", str(out), "--set", "log.video_interval=1"]) == 0
    return out


def test_video_interval_writes_one_episode_per_interval(spread_run):
    videos = sorted(p.name for p in (spread_run / "videos").iterdir())
    assert videos == ["iter1.mp4", "iter2.mp4"]  # no partial files left
    frames = read_video(spread_run / "videos" / "iter2.mp4")
    assert frames.shape == (5, 480, 480, 3)  # a frame per step of a 5-step episode, scaled from 700x700
    assert frames.std() > 1.0
    assert json.loads((spread_run / "summary.json").read_text())["timing_this_session"]["video_s"] > 0


def test_training_videos_reach_tensorboard(spread_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(spread_run / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    images = events.Images("eval/video")
    assert [image.step for image in images] == [10, 20]  # env steps at iterations 1 and 2
    iio = pytest.importorskip("imageio.v3")
    gif = iio.imread(images[-1].encoded_image_string, extension=".gif", index=None)
    assert gif.shape[0] == 5 and max(gif.shape[1:3]) <= 240


def test_videos_do_not_change_the_training_numbers(spread_run, tmp_path):
    out = tmp_path / "no_video"
    assert train([*SPREAD, "--steps", "20", "--out", str(out)]) == 0
    with (spread_run / "progress.csv").open() as a, (out / "progress.csv").open() as b:
        assert list(csv.DictReader(a)) == list(csv.DictReader(b))


def test_evaluate_records_mpe_at_the_asked_size(spread_run, tmp_path, capsys):
    video = tmp_path / "spread.mp4"
    argv = [
        str(spread_run),
        "--episodes",
        "2",
        "--num-envs",
        "1",
        "--video",
        str(video),
        "--video-size",
        "64x48",
    ]
    assert evaluate(argv) == 0
    frames = read_video(video)
    assert frames.shape == (5, 48, 64, 3)  # one 5-step episode of copy 0, scaled from 700x700
    assert "video: " in capsys.readouterr().out
    report = json.loads(next((spread_run / "eval").glob("best-*.json")).read_text())
    assert report["settings"]["video_frames"] == 5 and report["settings"]["video_fps"] == 10.0


def test_a_task_that_cannot_render_is_refused_at_the_start_of_training(tmp_path, capsys):
    out = tmp_path / "two_step"
    assert train([*TWO_STEP, "--out", str(out), "--set", "log.video_interval=1"]) == 2
    err = capsys.readouterr().err
    assert "matrix/two_step cannot render frames" in err and "log.video_interval=1 cannot record it" in err
    assert not (out / "progress.csv").exists()


def test_evaluate_refuses_a_video_of_a_task_that_cannot_render(tmp_path, capsys):
    if VIDEO_MODULES_MISSING:
        pytest.skip("videos need imageio-ffmpeg: pip install imageio imageio-ffmpeg")
    out = tmp_path / "two_step"
    assert train([*TWO_STEP, "--out", str(out)]) == 0
    assert evaluate([str(out), "--video", str(tmp_path / "two_step.mp4")]) == 2
    err = capsys.readouterr().err
    assert "matrix/two_step cannot render frames" in err and "--video cannot record it" in err
    assert not (tmp_path / "two_step.mp4").exists() and not (out / "eval").exists()


def test_a_negative_video_interval_is_refused(tmp_path, capsys):
    assert (
        train([*SPREAD, "--steps", "10", "--out", str(tmp_path / "r"), "--set", "log.video_interval=-1"]) == 2
    )
    assert "log.video_interval must be >= 0" in capsys.readouterr().err


def test_video_interval_without_imageio_ffmpeg_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if it were not installed
    assert (
        train([*SPREAD, "--steps", "10", "--out", str(tmp_path / "r"), "--set", "log.video_interval=1"]) == 2
    )
    err = capsys.readouterr().err
    assert "log.video_interval=1 needs imageio and imageio-ffmpeg" in err and "[video]" in err
