"""The random-policy reference of a task: `python -m leaderboards.random_policy --env T --out DIR`.

Normalised scores put 0 at a uniformly random policy, measured here with the same
`env_kwargs` the suite's runs use (episode length changes returns a lot, so
`python -m envs rollout`, which takes no env options, will not do). Writes
`episodes.csv`, `manifest.json` and a `summary.json` whose `final` block has the same
`eval_*` keys as a trained run's, so the aggregation reads both alike.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m leaderboards.random_policy", description=__doc__)
    p.add_argument("--env", required=True)
    p.add_argument("--env-kwargs", default="{}", help="JSON mapping passed to envs.make")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--num-envs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    import torch

    import envs
    from envs.manifest import run_manifest

    env_kwargs = json.loads(args.env_kwargs)
    args.out.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    rows: list[dict[str, float]] = []
    with envs.make(args.env, num_envs=args.num_envs, seed=args.seed, **env_kwargs) as env:
        keys = [k for k in env.spec.info_keys]
        limit = (env.spec.max_episode_steps or 10_000) * (args.episodes // args.num_envs + 2)
        timestep = env.reset()
        for _ in range(limit):
            timestep = env.step(envs.random_actions(env.spec, timestep.action_mask, generator))
            for copy in torch.nonzero(timestep.done).flatten().tolist():
                rows.append({k: float(timestep.info[k][copy]) for k in keys})
            if len(rows) >= args.episodes:
                break
        metadata = {k: v for k, v in env.spec.metadata.items() if isinstance(v, int | float | str)}
    rows = rows[: args.episodes]
    if not rows:
        raise SystemExit(f"error: no episode of {args.env} ended within {limit} steps")
    with open(args.out / "episodes.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)

    def mean(key: str) -> float:
        values = [r[key] for r in rows if not math.isnan(r[key])]
        return sum(values) / len(values) if values else math.nan

    final = {"eval_return": mean("episode_return"), "eval_length": mean("episode_length")}
    if "episode_cost" in keys:
        final["eval_cost"] = mean("episode_cost")
    final.update({f"eval_{k}": mean(k) for k in keys if not k.startswith("episode_")})
    manifest = run_manifest(task=args.env, seed=args.seed, policy="uniform random", env_kwargs=env_kwargs)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    summary = {
        "task": args.env,
        "algo": "random",
        "seed": args.seed,
        "episodes": len(rows),
        "env_kwargs": env_kwargs,
        "env_metadata": metadata,
        "final": final,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"random policy on {args.env}: {len(rows)} episodes, mean return {final['eval_return']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
