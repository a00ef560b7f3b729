"""The README's "write and register your own task" example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import torch

import envs

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    match = re.search(
        r"<!-- example: custom-task -->\s*```python\n(.*?)```\s*<!-- end example -->", text, re.S
    )
    assert match, "README.md lost its custom-task example block"
    return match.group(1)


def test_custom_task_example_runs_and_registers():
    namespace: dict = {}
    try:
        exec(compile(readme_example(), str(README), "exec"), namespace)
        env = envs.make("mygames/coordination", num_envs=3, seed=1, horizon=4)
        assert env.spec.max_episode_steps == 4
        timestep = env.reset()
        same = {"alice": torch.tensor([0, 1, 2]), "bob": torch.tensor([0, 1, 0])}
        for _ in range(4):
            timestep = env.step(same)
        # Matching actions pay 1.0 and 0.5, a mismatch pays 0, plus noise of scale 0.1.
        returns = timestep.info["episode_return"]
        assert bool(timestep.truncated.all())
        assert abs(returns[0] - 4.0) < 1.5 and abs(returns[1] - 2.0) < 1.5 and abs(returns[2]) < 1.5
        assert timestep.final_obs["alice"][0, 4] == 1 and timestep.obs["alice"][0, 0] == 1
    finally:
        envs.unregister("mygames/coordination")


def test_envs_check_accepts_the_readme_task_from_its_module(tmp_path):
    """`python -m envs check module:task` on the README's task, whose factory takes no `vector`."""
    (tmp_path / "readme_task.py").write_text(readme_example())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "envs", "check", "readme_task:mygames/coordination"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "mygames/coordination: passed check_env" in proc.stdout
