"""Training throughput of the on-policy baselines, and the HARL comparison.

`throughput` (default): env steps per second including updates, and the time per
iteration spent collecting and updating, for HAPPO on `mamujoco/HalfCheetah-2x3` with 8
copies (HARL's tuned config: 200-step rollouts, 15 epochs, clip 0.05, 1 minibatch, hidden
[128, 128, 128], 1 torch thread) and on `mpe2/simple_spread` with 32 copies.

`smax`: the same figures for MAPPO on `smax/3m` (the SMAX family's HARL SMAC settings:
160-step rollouts, hidden [64, 64, 64]) with 64 and 1,024 copies: what SMAX's speed is
worth once the learner's own work is counted.

`harl`: the same HalfCheetah 2x3 configuration for 300k env steps per seed (3 seeds),
evaluating like HARL (40 episodes on 20 copies every 25 iterations), for HAPPO and MAPPO,
beside the HARL figures measured on a machine of this kind (from the issue): HAPPO 652
env steps/s overall (about 800 without evaluation), evaluation return about 1,100 by 150k
steps; MAPPO 706 env steps/s, about 1,200 at 300k.

    python bench/bench_onpolicy.py throughput --out bench/results/onpolicy_throughput.json
    python bench/bench_onpolicy.py smax --out bench/results/onpolicy_smax.json
    python bench/bench_onpolicy.py harl --seeds 0 1 2 --out bench/results/onpolicy_harl.json
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import torch
from bench_common import write_result

from baselines.config import resolve
from baselines.trainer import Trainer

HARL_REFERENCE = {
    "source": "issue 5: HARL (the HAPPO authors' code) with its tuned HalfCheetah 2x3 config, 2-core machine",
    "happo": {"env_steps_per_second": 652, "without_eval": 800, "eval_return_at_150k": 1100},
    "mappo": {"env_steps_per_second": 706, "eval_return_at_300k": 1200},
}


def train(task: str, algo: str, seed: int, steps: int, overrides: list[str], out: Path) -> dict:
    config, sources = resolve(algo, task, task.split("/")[0], overrides=overrides)
    config.seed, config.steps = seed, steps
    trainer = Trainer(config, out, sources=sources)
    start = time.perf_counter()
    summary = trainer.train()
    summary["bench_wall_s"] = time.perf_counter() - start
    summary["iterations"] = trainer.iterations
    with (out / "progress.csv").open() as f:
        summary["curve"] = [
            (int(r["env_steps"]), float(r["eval_return"])) for r in csv.DictReader(f) if r["eval_return"]
        ]
    return summary


NO_EVAL = ["eval.interval=0", "eval.episodes=1", "eval.num_envs=1"]
# (task, algorithm, copies, overrides) per mode
THROUGHPUT_CASES = {
    "throughput": [
        ("mamujoco/HalfCheetah-2x3", "happo", 8, NO_EVAL),
        ("mpe2/simple_spread", "happo", 32, [*NO_EVAL, "rollout.length=100"]),
    ],
    "smax": [("smax/3m", "mappo", 64, NO_EVAL), ("smax/3m", "mappo", 1024, NO_EVAL)],
}


def throughput(args: argparse.Namespace) -> dict:
    """Env steps per second including updates (evaluation off), and the split per iteration."""
    rows = []
    for task, algo, copies, extra in THROUGHPUT_CASES[args.mode]:
        overrides = [f"num_envs={copies}", "log.tensorboard=false", "log.interval=1000", *extra]
        with tempfile.TemporaryDirectory() as folder:
            config, _ = resolve(algo, task, task.split("/")[0], overrides=overrides)
            per_iteration = copies * config.rollout.length
            summary = train(task, algo, 0, per_iteration * args.iterations, overrides, Path(folder) / "run")
        timing = summary["timing_this_session"]
        iterations = summary["iterations"]
        train_s = timing["collect_s"] + timing["update_s"]
        row = {
            "task": task,
            "algo": algo,
            "copies": copies,
            "rollout_length": per_iteration // copies,
            "iterations": iterations,
            "env_steps_per_second": round(summary["env_steps"] / train_s, 1),
            "collect_s_per_iteration": round(timing["collect_s"] / iterations, 3),
            "update_s_per_iteration": round(timing["update_s"] / iterations, 3),
        }
        rows.append(row)
        print(
            f"{task:<26} {algo:<6} copies={copies:<5} {row['env_steps_per_second']:>8,.0f} env steps/s  "
            f"collect {row['collect_s_per_iteration']:.3f} s/iter  update {row['update_s_per_iteration']:.3f} s/iter",
            flush=True,
        )
    name = "onpolicy_throughput" if args.mode == "throughput" else f"onpolicy_{args.mode}_throughput"
    return {"benchmark": name, "results": rows}


def harl(args: argparse.Namespace) -> dict:
    task = "mamujoco/HalfCheetah-2x3"
    overrides = [
        "num_envs=8",
        "eval.interval=25",
        "eval.episodes=40",
        "eval.num_envs=20",
        "log.tensorboard=false",
    ]
    results = {}
    for algo in args.algos:
        runs = []
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                summary = train(task, algo, seed, args.steps, overrides, Path(folder) / "run")
            timing = summary["timing_this_session"]
            total = timing["collect_s"] + timing["update_s"] + timing["eval_s"]
            run = {
                "seed": seed,
                "env_steps": summary["env_steps"],
                "env_steps_per_second": round(summary["env_steps"] / total, 1),
                "env_steps_per_second_without_eval": round(
                    summary["env_steps"] / (timing["collect_s"] + timing["update_s"]), 1
                ),
                "eval_curve": summary["curve"],
                "final_eval_return": summary["final"].get("eval_return"),
            }
            runs.append(run)
            print(
                f"{algo} seed {seed}: {run['env_steps_per_second']:,.0f} env steps/s "
                f"({run['env_steps_per_second_without_eval']:,.0f} without eval), "
                f"eval return {run['final_eval_return']:.1f} at {run['env_steps']:,} steps",
                flush=True,
            )
        finals = [r["final_eval_return"] for r in runs]
        mean = sum(finals) / len(finals)
        # HARL's HAPPO figure is "about 1,100 by 150k": our evaluation nearest to 150k steps
        near_150k = [min(r["eval_curve"], key=lambda point: abs(point[0] - 150_000)) for r in runs]
        sps = sum(r["env_steps_per_second"] for r in runs) / len(runs)
        reference = HARL_REFERENCE[algo]["env_steps_per_second"]
        results[algo] = {
            "runs": runs,
            "mean_final_eval_return": round(mean, 1),
            "mean_eval_return_near_150k": round(sum(v for _, v in near_150k) / len(runs), 1),
            "eval_steps_near_150k": sorted({s for s, _ in near_150k}),
            "mean_env_steps_per_second": round(sps, 1),
            "speedup_vs_harl": round(sps / reference, 2),
        }
        print(
            f"{algo}: mean eval return {mean:.1f} over {len(runs)} seeds "
            f"({results[algo]['mean_eval_return_near_150k']:.1f} at {near_150k[0][0]:,} steps); "
            f"{sps:,.0f} env steps/s = "
            f"{sps / reference:.2f}x HARL's {reference}",
            flush=True,
        )
    return {"benchmark": "onpolicy_harl_halfcheetah_2x3", "reference": HARL_REFERENCE, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=[*THROUGHPUT_CASES, "harl"], nargs="?", default="throughput")
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="throughput, smax: iterations per case (default 5; smax 3: 1,024 copies make long ones)",
    )
    parser.add_argument("--steps", type=int, default=300_000, help="harl: env steps per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--algos", nargs="+", default=["happo", "mappo"], choices=["happo", "mappo"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.iterations is None:
        args.iterations = 3 if args.mode == "smax" else 5
    result = harl(args) if args.mode == "harl" else throughput(args)
    write_result(args.out or Path(f"bench/results/onpolicy_{args.mode}.json"), result)


if __name__ == "__main__":
    main()
