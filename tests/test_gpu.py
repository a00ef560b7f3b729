"""The CUDA path: tensors on the GPU, validation with torch ops, autoreset on device.

Run with `python -m pytest -m gpu` on a machine with CUDA; skipped elsewhere.
"""

from __future__ import annotations

import pytest
import torch

import envs

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("task", ["mpe2/simple_spread", "mpe2/simple_speaker_listener"])
def test_check_env_on_cuda(task):
    with envs.make(task, num_envs=3, device="cuda") as env:
        assert env.spec.device == torch.device("cuda", torch.cuda.current_device())
        envs.check_env(env)


def test_cuda_actions_are_validated_on_the_device():
    env = envs.make("mpe2/simple_spread", num_envs=2, device="cuda", seed=0)
    env.reset()
    bad = {a: torch.tensor([0, 7], device="cuda") for a in env.spec.agents}
    with pytest.raises(ValueError, match=r"agent 'agent_0': action out of range in copies \[1\]"):
        env.step(bad)
    cpu_actions = {a: torch.zeros(2, dtype=torch.long) for a in env.spec.agents}
    with pytest.raises(ValueError, match="on cuda"):
        env.step(cpu_actions)
