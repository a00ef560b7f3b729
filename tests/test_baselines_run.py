"""`python -m baselines.run` end to end on small budgets: outputs, determinism, resume,
and the errors that must come before anything starts."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from baselines.config import resolve
from baselines.run import main

ROOT = Path(__file__).resolve().parent.parent

SMALL = [
    "--steps",
    "1600",
    "--num-envs",
    "4",
    "--set",
    "rollout.length=50",
    "--set",
    "eval.interval=4",
    "--set",
    "eval.episodes=4",
    "--set",
    "eval.num_envs=2",
    "--set",
    "checkpoint_interval=3",
    "--set",
    "log.tensorboard=false",
]


def run(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    assert main(["--env", "mpe2/simple_spread", "--out", str(out), *SMALL, *args]) == 0
    return out


def rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "progress.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_run_writes_everything_a_paper_needs(tmp_path, capsys):
    out = run(tmp_path, "a", "--algo", "happo", "--seed", "3", "--set", "log.tensorboard=true")
    for name in ("config.yaml", "manifest.json", "progress.csv", "train.log", "summary.json"):
        assert (out / name).exists(), name
    assert (out / "checkpoints" / "latest.pt").exists() and (out / "checkpoints" / "best.pt").exists()
    assert any((out / "tensorboard").iterdir())
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["algo"] == "happo" and config["seed"] == 3 and config["rollout"]["length"] == 50
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and "torch" in manifest["packages"] and "git_commit" in manifest
    assert manifest["config_sources"][0] == "defaults.yaml"
    table = rows(out)
    assert [int(r["iteration"]) for r in table] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert table[-1]["env_steps"] == "1600"
    assert table[3]["eval_return"] and not table[2]["eval_return"]  # evaluated every 4 iterations
    printed = capsys.readouterr().out
    assert "steps/s" in printed and "eval" in printed and "results in" in printed


def test_same_seed_gives_the_same_progress_csv(tmp_path):
    a = run(tmp_path, "a", "--algo", "mappo", "--seed", "1")
    b = run(tmp_path, "b", "--algo", "mappo", "--seed", "1")
    c = run(tmp_path, "c", "--algo", "mappo", "--seed", "2")
    assert (a / "progress.csv").read_bytes() == (b / "progress.csv").read_bytes()
    assert (a / "progress.csv").read_bytes() != (c / "progress.csv").read_bytes()


def killed_run(tmp_path: Path, name: str, *args: str) -> Path:
    """A run stopped (as by Ctrl-C) during its 5th iteration; its last checkpoint is at 3."""
    from baselines import trainer as trainer_module

    cut = tmp_path / name
    original = trainer_module.Trainer.collect
    calls = {"n": 0}

    def dying_collect(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt("killed")
        return original(self, *a, **k)

    trainer_module.Trainer.collect = dying_collect
    try:
        assert (
            main(["--env", "mpe2/simple_spread", "--out", str(cut), *SMALL, *args]) == 130
        )  # Ctrl-C's status
    finally:
        trainer_module.Trainer.collect = original
    return cut


def test_a_killed_run_resumes_from_its_checkpoint(tmp_path):
    """The resumed run keeps every row up to its checkpoint, finishes, and is deterministic:
    two resumes of the same checkpoint give the same file. (Its envs restart at the
    checkpoint, so after it the rows differ from an uninterrupted run's: see trainer.py.)"""
    import shutil

    whole = run(tmp_path, "whole", "--algo", "happo", "--seed", "5")
    cut = killed_run(tmp_path, "cut", "--algo", "happo", "--seed", "5")
    log = (cut / "train.log").read_text()
    assert len(rows(cut)) == 4 and "stopped at iteration 4" in log
    assert f"the last checkpoint (iteration 3) and the log are kept in {cut}" in log
    assert f"continue with: python -m baselines.run --resume {cut}" in log
    twin = tmp_path / "twin"
    shutil.copytree(cut, twin)
    assert main(["--resume", str(cut)]) == 0 and main(["--resume", str(twin)]) == 0
    resumed, uninterrupted = rows(cut), rows(whole)
    assert len(resumed) == len(uninterrupted) == 8
    assert resumed[:3] == uninterrupted[:3]  # up to the checkpoint at iteration 3
    assert resumed[3:] != uninterrupted[3:]
    assert (cut / "progress.csv").read_bytes() == (twin / "progress.csv").read_bytes()
    assert (cut / "summary.json").exists()


def test_with_exact_resume_a_killed_run_resumes_bit_for_bit(tmp_path):
    """`exact_resume` resets the envs at every checkpoint, as a resume does, so the resumed
    run writes the uninterrupted run's progress.csv byte for byte (what the Ray launcher's
    retries after a lost node rely on)."""
    exact = ("--algo", "happo", "--seed", "5", "--set", "exact_resume=true")
    whole = run(tmp_path, "whole", *exact)
    cut = killed_run(tmp_path, "cut", *exact)
    assert len(rows(cut)) == 4
    assert main(["--resume", str(cut)]) == 0
    assert (cut / "progress.csv").read_bytes() == (whole / "progress.csv").read_bytes()
    plain = run(tmp_path, "plain", "--algo", "happo", "--seed", "5")
    assert rows(plain)[:3] == rows(whole)[:3] and rows(plain)[3:] != rows(whole)[3:]  # it did reset


def test_exact_resume_refuses_checkpoints_closer_than_an_episode(tmp_path, capsys):
    argv = ["--env", "mpe2/simple_spread", "--algo", "mappo", "--out", str(tmp_path / "r"), "--steps", "480"]
    argv += ["--set", "rollout.length=2", "--set", "checkpoint_interval=3", "--set", "exact_resume=true"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "every 3 iterations x 2 steps = 6 steps" in err and "25-step episodes" in err
    assert "set checkpoint_interval to at least 13" in err


def test_episodes_longer_than_a_checkpoint_span_finish(tmp_path):
    """Checkpoints do not reset the training envs: with checkpoints every 3 iterations of 2
    steps, simple_spread's 25-step episodes still end, and at full length (all copies start
    together and the task never terminates early)."""
    out = tmp_path / "long"
    argv = ["--env", "mpe2/simple_spread", "--algo", "mappo", "--out", str(out), "--steps", "480"]
    argv += ["--num-envs", "4", "--set", "rollout.length=2", "--set", "checkpoint_interval=3"]
    argv += ["--set", "eval.interval=0", "--set", "log.tensorboard=false"]
    assert main(argv) == 0
    lengths = [float(r["train_length"]) for r in rows(out) if r["train_length"]]
    assert lengths and set(lengths) == {25.0}
    assert int(rows(out)[-1]["episodes"]) == 4 * (480 // 4 // 25)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "mpe2/simple_sprad", "--algo", "mappo"], "did you mean mpe2/simple_spread"),
        (["--env", "mpe2/simple_spread", "--algo", "hapo"], "unknown algorithm 'hapo': did you mean happo"),
        (
            ["--env", "mpe2/simple_spread", "--algo", "macpo"],
            "macpo is a safe-RL algorithm and needs a task with costs",
        ),
        (
            ["--env", "mpe2/simple_spread", "--algo", "mappo", "--set", "train.clipp=1"],
            "did you mean train.clip",
        ),
        (
            ["--env", "mpe2/simple_spread", "--algo", "mappo", "--set", "train.clip=big"],
            "train.clip must be a number",
        ),
        (
            ["--env", "mpe2/simple_spread", "--algo", "happo", "--set", "train.share_param=true"],
            "needs train.share_param=false",
        ),
        (["--algo", "mappo"], "give --env and --algo"),
    ],
)
def test_bad_input_fails_before_training_with_a_clear_message(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x" / "progress.csv").exists()


def test_list_shows_algorithms_and_tasks(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "happo" in out and "macpo" in out and "mpe2" in out and "simple_spread" in out


def test_resume_needs_a_run_directory(tmp_path, capsys):
    assert main(["--resume", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_an_existing_run_is_not_overwritten(tmp_path, capsys):
    out = run(tmp_path, "a", "--algo", "mappo")
    assert main(["--env", "mpe2/simple_spread", "--algo", "mappo", "--out", str(out), *SMALL]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_config_layers_apply_in_order(tmp_path):
    override = tmp_path / "mine.yaml"
    override.write_text("train:\n  clip: 0.3\n  ppo_epoch: 7\n")
    config, sources = resolve(
        "happo", "mamujoco/HalfCheetah-2x3", "mamujoco", config_file=override, overrides=["train.ppo_epoch=9"]
    )
    assert config.train.clip == 0.3 and config.train.ppo_epoch == 9  # file over task, --set over file
    assert config.model.hidden_sizes == [128, 128, 128]  # from the family file
    assert sources[:2] == ["defaults.yaml", "algos/happo.yaml"] and sources[-1] == "--set train.ppo_epoch=9"
    tuned, _ = resolve("happo", "mamujoco/HalfCheetah-2x3", "mamujoco")
    assert tuned.train.clip == 0.05 and tuned.train.ppo_epoch == 15  # HARL's tuned HalfCheetah 2x3


# numEnvs of each task's cfg (PKU-MARL/DexterousHands bidexhands/cfg/<Task>.yaml, e255ebd; the second
# ten from dc41afd):
# process_marl.py makes it the MARL runner's n_rollout_threads
BIDEXHANDS_NUM_ENVS = {
    "ShadowHandOver": 128,
    "ShadowHandCatchUnderarm": 256,
    "ShadowHandCatchOver2Underarm": 256,
    "ShadowHandCatchAbreast": 256,
    "ShadowHandTwoCatchUnderarm": 128,
    "ShadowHandLiftUnderarm": 128,
    "ShadowHandDoorOpenInward": 128,
    "ShadowHandDoorOpenOutward": 128,
    "ShadowHandDoorCloseInward": 256,
    "ShadowHandDoorCloseOutward": 256,
    "ShadowHandPushBlock": 128,
    "ShadowHandBlockStack": 256,
    "ShadowHandReOrientation": 128,
    "ShadowHandGraspAndPlace": 128,
    "ShadowHandSwitch": 128,
    "ShadowHandPen": 128,
    "ShadowHandScissors": 128,
    "ShadowHandBottleCap": 256,
    "ShadowHandSwingCup": 128,
    "ShadowHandKettle": 128,
}


@pytest.mark.parametrize("algo", ["happo", "mappo"])
def test_bidexhands_runs_use_upstreams_thread_counts(algo):
    for task, num_envs in BIDEXHANDS_NUM_ENVS.items():
        config, _ = resolve(algo, f"bidexhands/{task}", "bidexhands")
        assert config.num_envs == num_envs, task
        assert config.rollout.length == 8 and config.model.hidden_sizes == [512, 512, 512]


@pytest.mark.parametrize("recurrent", [False, True])
def test_stored_log_probs_are_reproduced_by_the_training_pass(tmp_path, recurrent):
    """Before any update the policy's ratio must be exactly 1 on the whole rollout: the
    training pass (minibatches, or recurrent chunks started from stored hidden states)
    sees what acting saw."""
    import torch

    from baselines.storage import gather
    from baselines.trainer import Trainer

    config, _ = resolve(
        "happo",
        "mpe2/simple_spread",
        "mpe2",
        overrides=[
            "num_envs=3",
            "rollout.length=50",
            f"model.recurrent={str(recurrent).lower()}",
            "model.data_chunk_length=10",
            "log.tensorboard=false",
        ],
    )
    trainer = Trainer(config, tmp_path / "run")
    algo = trainer.algorithm
    timestep = trainer.env.reset(seed=0)
    hidden = algo.initial_hidden(3)
    starts = torch.ones(3, dtype=torch.bool)
    rollout, *_ = trainer.collect(timestep, hidden, starts)
    assert bool(rollout.starts[1:].any())  # episodes ended inside the rollout (25-step episodes)
    index = algo.all_indices(rollout)
    for agent in algo.agents:
        log_probs, _, _ = algo.evaluate(agent, rollout, index)
        stored = gather(rollout.log_probs[agent], index, rollout.num_envs, algo.chunk)
        torch.testing.assert_close(log_probs, stored, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(
            algo.log_probs_all(agent, rollout), rollout.log_probs[agent], rtol=1e-5, atol=1e-5
        )


def test_resuming_a_run_that_stopped_after_its_last_checkpoint_writes_the_summary(tmp_path):
    out = run(tmp_path, "a", "--algo", "mappo")
    (out / "summary.json").unlink()
    before = (out / "progress.csv").read_bytes()
    assert main(["--resume", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == 8 and "eval_return" in summary["final"]
    assert (out / "progress.csv").read_bytes() == before  # nothing trained again


def test_ctrl_c_prints_the_resume_command_and_exits_130_without_a_traceback(tmp_path):
    """A real SIGINT to `python -m baselines.run`, as a terminal's Ctrl-C sends it."""
    out = tmp_path / "run"
    argv = ["--env", "mpe2/simple_spread", "--algo", "mappo", "--out", str(out), *SMALL]
    argv[argv.index("1600")] = "400000"  # long enough to be interrupted
    argv += ["--set", "log.interval=1", "--set", "checkpoint_interval=1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "baselines.run", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        for line in proc.stdout:  # wait until it trains and has a checkpoint
            if line.startswith("[") and "iter 2/" in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert f"continue with: python -m baselines.run --resume {out}" in stdout
    assert (out / "checkpoints" / "latest.pt").exists()


def test_a_step_budget_that_is_not_whole_iterations_is_announced(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--env", "mpe2/simple_spread", "--algo", "mappo", "--out", str(out), *SMALL]
    argv[argv.index("1600")] = "1500"  # 4 copies x 50 steps = 200 per iteration: 8 iterations, 1,600 steps
    assert main(argv) == 0
    printed = capsys.readouterr().out
    first_lines = printed.splitlines()[:2]
    assert any(
        "1,500 env steps asked for; running 1,600, whole iterations of 200 (4 copies x 50 steps)" in line
        for line in first_lines
    ), first_lines
    assert rows(out)[-1]["env_steps"] == "1600"
    assert "asked for" not in run(tmp_path, "whole", "--algo", "mappo").joinpath("train.log").read_text()
