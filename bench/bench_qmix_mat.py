"""Training throughput and update time of QMIX and MAT beside MAPPO on one MPE task.

Each algorithm trains for `--steps` env steps with its own config (algos/<algo>.yaml and
the task's family file) except for the copies and the rollout length, which are the same
for all; the trainer's clock splits the time into collecting (acting + env steps + replay
bookkeeping) and updating. Env steps per second counts both; evaluation is excluded.

    python bench/bench_qmix_mat.py --steps 8000 --out bench/results/qmix_mat.json

QMIX on SMAX with the SMAX family's copies and rollout (pymarl2's settings):

    python bench/bench_qmix_mat.py --task smax/3m --algos qmix --num-envs 4 --rollout-length 160 \
        --steps 40000 --out bench/results/qmix_smax.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from bench_common import write_result

from baselines.config import resolve
from baselines.run import trainer_class


def bench(
    algo: str, task: str, steps: int, num_envs: int, length: int, device: str, extra: list[str]
) -> dict:
    config, _ = resolve(
        algo,
        task,
        task.split("/")[0],
        overrides=[
            f"steps={steps}",
            f"num_envs={num_envs}",
            f"rollout.length={length}",
            f"device={device}",
            "eval.interval=0",
            "eval.episodes=2",
            "eval.num_envs=2",
            "log.interval=100000",
            "log.tensorboard=false",
            "checkpoint_interval=100000",
            *extra,
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = trainer_class(algo)(config, Path(tmp) / "run")
        start = time.perf_counter()
        summary = trainer.train()
        wall = time.perf_counter() - start
        timing = trainer.timing
        updates = getattr(trainer.algorithm, "updates", None)
    iterations = summary["iterations"]
    busy = timing["collect_s"] + timing["update_s"]
    result = {
        "env_steps": summary["env_steps"],
        "iterations": iterations,
        "env_steps_per_second": round(summary["env_steps"] / busy, 1),
        "collect_s": round(timing["collect_s"], 3),
        "update_s": round(timing["update_s"], 3),
        "update_s_per_iteration": round(timing["update_s"] / iterations, 4),
        "wall_s_including_eval_and_setup": round(wall, 2),
    }
    if updates:  # QMIX: gradient steps on replayed episode batches
        result["gradient_steps"] = updates
        result["update_s_per_gradient_step"] = round(timing["update_s"] / updates, 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="mpe2/simple_spread")
    parser.add_argument("--algos", nargs="+", default=["mappo", "mat", "mat_dec", "qmix"])
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--rollout-length", type=int, default=100, help="a multiple of the 25-step episodes")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override for every algorithm, e.g. offpolicy.batch_size=128",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/qmix_mat.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    for algo in args.algos:
        results[algo] = bench(
            algo, args.task, args.steps, args.num_envs, args.rollout_length, args.device, args.overrides
        )
        r = results[algo]
        print(
            f"{algo:8s} {r['env_steps_per_second']:8.1f} env steps/s | update {r['update_s_per_iteration'] * 1000:7.1f} ms"
            f"/iteration | collect {r['collect_s']:.2f} s, update {r['update_s']:.2f} s",
            flush=True,
        )
    payload = {
        "benchmark": "qmix_mat_training_throughput",
        "task": args.task,
        "steps": args.steps,
        "num_envs": args.num_envs,
        "rollout_length": args.rollout_length,
        "device": args.device,
        "overrides": args.overrides,
        "torch_threads": 1,
        "note": "each algorithm with its own config (batch sizes, epochs); QMIX updates once per finished episode",
        "results": results,
    }
    write_result(args.out, payload)


if __name__ == "__main__":
    main()
