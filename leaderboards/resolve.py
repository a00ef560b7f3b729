"""Resolve run configs in a child process: `python -m leaderboards.resolve OUT.json < requests.json`.

The launcher process must not import torch (nor jax), but the config layers and the task
registry live in packages that do. So the planner sends its requests here, in a
subprocess that imports `baselines` and `envs`, and reads back the resolved configs.

Input (stdin): a JSON list of {"task", "algo", "seed", "steps", "overrides": ["k=v", ...]}.
Output (the file OUT.json, as libraries may print to stdout): a JSON list, per request either {"ok": true, "task", "family", "config",
"sources"} or {"ok": false, "error"}.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def resolve_one(request: dict[str, Any]) -> dict[str, Any]:
    import envs
    from baselines.algorithms import get_algorithm
    from baselines.config import ConfigError, resolve

    try:
        entry = envs.get_entry(request["task"])
        get_algorithm(request["algo"])
        cli = {"seed": request["seed"], "steps": request.get("steps")}
        config, sources = resolve(
            request["algo"], entry.name, entry.family, overrides=request["overrides"], cli=cli
        )
    except (ConfigError, envs.UnknownTaskError, ValueError) as error:
        return {"ok": False, "error": str(error)}
    return {
        "ok": True,
        "task": entry.name,
        "family": entry.family,
        "extra": entry.extra,
        "config": config.to_dict(),
        "sources": sources,
    }


def main() -> int:
    requests = json.load(sys.stdin)
    results = [resolve_one(r) for r in requests]
    with open(sys.argv[1], "w") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
