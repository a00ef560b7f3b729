"""Train a baseline on a task: `python -m baselines.run --env ShadowHandOver --algo happo`.

Every run directory holds the resolved `config.yaml`, `manifest.json` (seed, git commit,
package versions, device), `progress.csv`, TensorBoard events, `train.log`,
`checkpoints/latest.pt` and `best.pt`, and `summary.json` when it finishes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

import envs
from baselines.algorithms import ALGORITHMS, get_algorithm
from baselines.config import ConfigError, build, resolve, task_file_name
from baselines.trainer import Trainer, TrainingError

# Bad input found while setting a run up: reported in one line with exit status 2, no traceback.
SETUP_ERRORS = (ConfigError, TrainingError, envs.UnknownTaskError, envs.MissingDependencyError, ValueError)

EXAMPLES = """examples:
  python -m baselines.run --env mpe2/simple_spread --algo mappo --steps 200000
  python -m baselines.run --env mamujoco/HalfCheetah-2x3 --algo happo --seed 1
  python -m baselines.run --env SafeAnt2x4Corridor --algo macpo --set train.kl_threshold=0.005
  python -m baselines.run --resume runs/mamujoco__HalfCheetah-2x3/happo/seed1
  python -m baselines.run --list
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m baselines.run",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--env", help="task name, e.g. mamujoco/HalfCheetah-2x3 (bare names work when unique)")
    p.add_argument("--algo", help=f"one of: {', '.join(ALGORITHMS)}")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--steps", type=int, help="env steps in total, all copies counted")
    p.add_argument("--num-envs", type=int, help="parallel env copies")
    p.add_argument("--device", help="torch device, e.g. cpu or cuda")
    p.add_argument("--out", type=Path, help="run directory (default runs/<task>/<algo>/seed<seed>)")
    p.add_argument("--config", type=Path, help="YAML file of overrides, applied after the built-in configs")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. train.clip=0.1"
    )
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    p.add_argument("--eval-episodes", type=int, help="episodes per evaluation")
    p.add_argument("--list", action="store_true", help="list tasks and algorithms, then exit")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    return p


def trainer_class(algo: str) -> type[Trainer]:
    """The on-policy `Trainer`, or the off-policy one for QMIX."""
    if getattr(get_algorithm(algo), "off_policy", False):
        from baselines.offpolicy import OffPolicyTrainer

        return OffPolicyTrainer
    return Trainer


def list_everything() -> str:
    lines = ["algorithms:"]
    for name, cls in ALGORITHMS.items():
        needs = " (needs a task with costs)" if cls.needs_costs else ""
        lines.append(f"  {name:<9} {cls.description}{needs}")
    lines.append("tasks:")
    for family in sorted({t.family for t in envs.registered_tasks()}):
        tasks = [t.name for t in envs.registered_tasks(family)]
        lines.append(f"  {family} ({len(tasks)}): {', '.join(t.split('/', 1)[-1] for t in tasks)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # during set-up, before a run directory holds anything to resume
        print("interrupted before training started", file=sys.stderr)
        return 130


def _main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        print(list_everything())
        return 0
    try:
        if args.resume is not None:
            config_path = args.resume / "config.yaml"
            if not config_path.exists():
                raise TrainingError(f"{args.resume} is not a run directory (no config.yaml)")
            config = build(yaml.safe_load(config_path.read_text()))
            trainer = trainer_class(config.algo)(config, args.resume, resume=True, sources=[str(config_path)])
        else:
            if not args.env or not args.algo:
                raise TrainingError("give --env and --algo (or --resume RUN_DIR, or --list)")
            entry = envs.get_entry(args.env)
            get_algorithm(args.algo)
            cli = {
                "seed": args.seed,
                "steps": args.steps,
                "num_envs": args.num_envs,
                "device": args.device,
                "eval": {"episodes": args.eval_episodes} if args.eval_episodes else None,
            }
            config, sources = resolve(
                args.algo, entry.name, entry.family, config_file=args.config, overrides=args.set, cli=cli
            )
            if args.print_config:
                print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")
                return 0
            out = args.out or Path("runs") / task_file_name(entry.name) / args.algo / f"seed{config.seed}"
            if (out / "checkpoints" / "latest.pt").exists():
                raise TrainingError(
                    f"{out} already holds a run; continue it with --resume {out} or choose --out"
                )
            trainer = trainer_class(config.algo)(config, out, sources=sources)
    except SETUP_ERRORS as error:
        # everything is checked while setting up, before the first step
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        summary = trainer.train()
    except KeyboardInterrupt:
        # the trainer has logged where it stopped and the --resume command; no traceback
        return 130
    print(
        f"done: {summary['env_steps']:,} env steps in {summary['wall_time_s']:.0f} s; results in {trainer.run_dir}"
    )
    final = summary["final"]
    if final:
        print("final evaluation: " + ", ".join(f"{k[5:]} {v:.3f}" for k, v in final.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
