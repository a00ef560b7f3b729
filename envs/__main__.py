"""`python -m envs`: list tasks, check a task, or run a random-policy rollout.

python -m envs list
python -m envs check mpe2/simple_spread --num-envs 4
python -m envs rollout --env mpe2/simple_spread --num-envs 8 --episodes 32 --out runs/random
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import torch

import envs
from envs.manifest import run_manifest


def cmd_list(args: argparse.Namespace) -> int:
    tasks = envs.registered_tasks(args.family)
    width = max((len(t.name) for t in tasks), default=4)
    unavailable: dict[str, str] = {}  # what is missing -> how to install it
    runnable = 0
    for task in tasks:
        note = ""
        requirement = task.requirement()
        if requirement is not None and requirement.missing():
            needs = f"marlsuite[{requirement.extra}]" if requirement.extra else requirement.name
            note = f"  [needs {needs}]"
            unavailable[needs] = requirement.install_command()
        else:
            runnable += 1
        print(f"{task.name:<{width}}  {task.family:<12} {task.description}{note}")
    print(f"{len(tasks)} tasks, {runnable} runnable here")
    for needs, command in unavailable.items():
        print(f"  {needs}: {command}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    options = {} if args.vector is None else {"vector": args.vector}  # not every task takes one
    with envs.make(args.task, num_envs=args.num_envs, device=args.device, **options) as env:
        envs.check_env(env, steps=args.steps, seed=args.seed)
    how = f", {args.vector} vector" if args.vector else ""
    print(f"{env.spec.name}: passed check_env ({args.num_envs} copies{how})")
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    """Random-policy episodes: the lower reference every learning curve is read against."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "manifest.json").write_text(
        json.dumps(run_manifest(seed=args.seed, task=args.env, policy="uniform random"), indent=2) + "\n"
    )
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    rows: list[dict[str, float | int]] = []
    start = time.perf_counter()
    steps = 0
    with (
        envs.make(args.env, num_envs=args.num_envs, device=args.device, seed=args.seed) as env,
        open(out / "episodes.csv", "w", newline="") as handle,
    ):
        keys = list(env.spec.info_keys)
        writer = csv.DictWriter(handle, fieldnames=["episode", "env_steps", "copy", *keys])
        writer.writeheader()
        timestep = env.reset()
        report_every = max(1, args.episodes // 10)
        next_report = report_every
        while len(rows) < args.episodes:
            timestep = env.step(envs.random_actions(env.spec, timestep.action_mask, generator))
            steps += env.spec.num_envs
            for copy in torch.nonzero(timestep.done).flatten().tolist()[: args.episodes - len(rows)]:
                row = {"episode": len(rows), "env_steps": steps, "copy": copy}
                row.update({k: float(timestep.info[k][copy]) for k in keys})
                writer.writerow(row)
                rows.append(row)
            if len(rows) >= next_report:
                next_report = (len(rows) // report_every + 1) * report_every
                recent = [r["episode_return"] for r in rows[-report_every:]]
                print(
                    f"episodes {len(rows):>5}/{args.episodes}  env steps {steps:>8}  "
                    f"{steps / (time.perf_counter() - start):8.0f} steps/s  "
                    f"mean return (last {len(recent)}) {sum(recent) / len(recent):9.3f}",
                    flush=True,
                )
    elapsed = time.perf_counter() - start
    summary = {"task": args.env, "episodes": len(rows), "env_steps": steps, "seconds": round(elapsed, 3)}
    for key in keys:
        values = [r[key] for r in rows if not math.isnan(r[key])]
        if values:
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
            summary[key] = {"mean": mean, "std": std}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ret = summary.get("episode_return", {})
    print(f"{args.env}: {len(rows)} episodes, mean return {ret.get('mean', math.nan):.3f}; wrote {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m envs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered tasks and their family")
    p.add_argument("--family", help="only tasks of this family (e.g. mpe2)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="run envs.check_env on a task")
    p.add_argument("task")
    p.add_argument("--num-envs", type=int, default=2)
    p.add_argument(
        "--vector",
        choices=envs.vector.VECTORS,
        default=None,
        help="how a task that runs per-copy simulators steps them (default: the task's own)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rollout", help="random-policy episodes written to a run directory")
    p.add_argument("--env", required=True, help="registered task name (see `list`)")
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("runs/random"))
    p.set_defaults(func=cmd_rollout)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (envs.UnknownTaskError, envs.MissingDependencyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
