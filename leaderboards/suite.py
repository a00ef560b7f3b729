"""Suite files: which tasks, algorithms, seeds, budgets and overrides make one leaderboard.

A suite is YAML (see `leaderboards/suites/*.yaml`); every key is checked here, so a typo
fails before anything runs, with the key's path and what is allowed. Task and algorithm
names are checked later against the registries, in the planning subprocess (which may
import torch; this module must not).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUITES_DIR = Path(__file__).resolve().parent / "suites"

TOP_KEYS = {
    "name": "suite name (the output folder leaderboards/<name>/)",
    "description": "one paragraph for the generated README",
    "seeds": "a list of seeds, or a count n for seeds 0..n-1",
    "steps": "default env-step budget per run (omit: the budget in the resolved config)",
    "overrides": "config overrides for every run (nested mapping, as `--config`)",
    "algorithm_overrides": "{algorithm: overrides} merged over `overrides` for that algorithm's runs",
    "resources": "per run: {cpus, gpus} (Ray asks for these)",
    "estimate": "throughput for --dry-run: {steps_per_second, source}",
    "random_reference": "random-policy reference: {episodes, seed}",
    "bootstrap": "interval estimates: {reps, seed}",
    "groups": "list of task groups",
}
GROUP_KEYS = {
    "name": "group title in the README",
    "tasks": "list of task names (as `python -m baselines.run --env`)",
    "algorithms": "list of algorithm names (as `--algo`)",
    "seeds": "overrides the suite's seeds",
    "steps": "overrides the suite's steps",
    "overrides": "merged over the suite's overrides",
    "algorithm_overrides": "{algorithm: overrides} merged over the suite's and the group's",
    "resources": "overrides the suite's resources",
    "estimate": "overrides the suite's estimate",
    "score": "headline metric for normalised scores: return, or an eval info key such as win or success",
    "normalize": "{min: random | number, max: best | number} for the score",
    "reference": "list of reference ids from leaderboards/reference/index.yaml",
}
SUB_KEYS = {
    "resources": {"cpus": "CPUs per run", "gpus": "GPUs per run"},
    "estimate": {
        "steps_per_second": "env steps/s of one run, evaluations included: a number, or {algorithm: number}",
        "source": "where the figure comes from",
    },
    "random_reference": {"episodes": "episodes per task", "seed": "seed of the random policy"},
    "bootstrap": {"reps": "bootstrap replicates (rliable: 50000)", "seed": "bootstrap seed"},
    "normalize": {"min": "random or a number", "max": "best or a number"},
}


class SuiteError(ValueError):
    """A suite file that does not fit the format; the message names the key."""


@dataclass(frozen=True)
class Group:
    name: str
    tasks: tuple[str, ...]
    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int | None
    overrides: dict[str, Any]
    resources: dict[str, float]
    estimate: dict[str, Any]
    # per algorithm, merged over `overrides`: e.g. evaluation intervals, which count iterations
    # and an iteration is 3,200 env steps for MAPPO on SMAX but 640 for QMIX
    algorithm_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    score: str = "return"
    normalize: dict[str, Any] = field(default_factory=lambda: {"min": "random", "max": "best"})
    reference: tuple[str, ...] = ()

    def overrides_for(self, algo: str) -> dict[str, Any]:
        """The overrides of one algorithm's runs."""
        return _merge(self.overrides, self.algorithm_overrides.get(algo, {}))

    def estimate_for(self, algo: str) -> dict[str, Any]:
        """The group's estimate with steps_per_second resolved for one algorithm."""
        sps = self.estimate.get("steps_per_second")
        return {**self.estimate, "steps_per_second": sps.get(algo) if isinstance(sps, dict) else sps}


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    path: Path
    groups: tuple[Group, ...]
    random_reference: dict[str, int]
    bootstrap: dict[str, int]


def suite_names() -> list[str]:
    """The suites shipped in `leaderboards/suites/`, by name."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def find_suite(name_or_path: str) -> Path:
    """A path to a YAML file, or the name of one in `leaderboards/suites/`."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = SUITES_DIR / f"{name_or_path}.yaml"
    if candidate.exists():
        return candidate
    known = suite_names()
    close = difflib.get_close_matches(name_or_path, known, n=2)
    hint = f" did you mean {', '.join(close)}?" if close else ""
    raise SuiteError(
        f"no suite {name_or_path!r}:{hint} (suites: {', '.join(known)}; or give a path to a .yaml file)"
    )


def load_suite(name_or_path: str | Path) -> Suite:
    path = find_suite(str(name_or_path))
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SuiteError(f"{path}: not valid YAML: {error}") from error
    return parse_suite(data, path)


def parse_suite(data: Any, path: Path) -> Suite:
    where = path.name
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: expected a mapping at the top level, got {type(data).__name__}")
    _check_keys(data, TOP_KEYS, where)
    for key in ("name", "groups"):
        if key not in data:
            raise SuiteError(f"{where}: missing key {key!r} ({TOP_KEYS[key]})")
    name = _string(data["name"], f"{where}: name")
    if not name.replace("_", "").replace("-", "").isalnum():
        raise SuiteError(f"{where}: name must be letters, digits, - and _ (it names a folder), got {name!r}")
    seeds = _seeds(data.get("seeds", [0]), f"{where}: seeds")
    steps = _steps(data.get("steps"), f"{where}: steps")
    overrides = _mapping(data.get("overrides", {}), f"{where}: overrides")
    algorithm_overrides = _algorithm_overrides(
        data.get("algorithm_overrides"), f"{where}: algorithm_overrides"
    )
    resources = _sub(data.get("resources", {}), "resources", f"{where}: resources")
    estimate = _sub(data.get("estimate", {}), "estimate", f"{where}: estimate")
    groups_data = data["groups"]
    if not isinstance(groups_data, list) or not groups_data:
        raise SuiteError(f"{where}: groups must be a non-empty list of groups ({', '.join(GROUP_KEYS)})")
    groups = []
    for i, group in enumerate(groups_data):
        at = f"{where}: groups[{i}]"
        if not isinstance(group, dict):
            raise SuiteError(f"{at}: expected a mapping with keys {', '.join(GROUP_KEYS)}, got {group!r}")
        _check_keys(group, GROUP_KEYS, at)
        for key in ("tasks", "algorithms"):
            if key not in group:
                raise SuiteError(f"{at}: missing key {key!r} ({GROUP_KEYS[key]})")
        normalize = _sub(group.get("normalize", {}), "normalize", f"{at}.normalize")
        for bound, word in (("min", "random"), ("max", "best")):
            value = normalize.setdefault(bound, word)
            if value != word and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise SuiteError(f"{at}.normalize.{bound} must be {word!r} or a number, got {value!r}")
        algorithms = tuple(_strings(group["algorithms"], f"{at}.algorithms"))
        own_overrides = _algorithm_overrides(group.get("algorithm_overrides"), f"{at}.algorithm_overrides")
        _check_algorithms_named(own_overrides, algorithms, f"{at}.algorithm_overrides")
        groups.append(
            Group(
                name=_string(group.get("name", f"group {i + 1}"), f"{at}.name"),
                tasks=tuple(_strings(group["tasks"], f"{at}.tasks")),
                algorithms=algorithms,
                seeds=_seeds(group["seeds"], f"{at}.seeds") if "seeds" in group else seeds,
                steps=_steps(group["steps"], f"{at}.steps") if "steps" in group else steps,
                overrides=_merge(overrides, _mapping(group.get("overrides", {}), f"{at}.overrides")),
                algorithm_overrides=_merge(algorithm_overrides, own_overrides),
                resources={**resources, **_sub(group.get("resources", {}), "resources", f"{at}.resources")},
                estimate={**estimate, **_sub(group.get("estimate", {}), "estimate", f"{at}.estimate")},
                score=_string(group.get("score", "return"), f"{at}.score"),
                normalize=normalize,
                reference=tuple(_strings(group.get("reference", []), f"{at}.reference", empty=True)),
            )
        )
    for key, value in resources.items():
        if not _non_negative(value):
            raise SuiteError(f"{where}: {key} must be a non-negative number, got {value!r}")
    for i, group in enumerate(groups):
        _check_throughput(group, f"{where}: groups[{i}] ({group.name}): estimate.steps_per_second")
    every = tuple(dict.fromkeys(a for group in groups for a in group.algorithms))
    _check_algorithms_named(algorithm_overrides, every, f"{where}: algorithm_overrides")
    random_reference = {"episodes": 20, "seed": 0}
    random_reference.update(
        _sub(data.get("random_reference", {}), "random_reference", f"{where}: random_reference")
    )
    bootstrap = {"reps": 50_000, "seed": 0}
    bootstrap.update(_sub(data.get("bootstrap", {}), "bootstrap", f"{where}: bootstrap"))
    for section, values in (("random_reference", random_reference), ("bootstrap", bootstrap)):
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key != "seed" else 0):
                raise SuiteError(
                    f"{where}: {section}.{key} must be a {'non-negative' if key == 'seed' else 'positive'} integer, got {value!r}"
                )
    return Suite(
        name=name,
        description=str(data.get("description", "")).strip(),
        path=path,
        groups=tuple(groups),
        random_reference=random_reference,
        bootstrap=bootstrap,
    )


def flatten_overrides(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    """{"train": {"clip": 0.1}} -> ["train.clip=0.1"]: the `--set` form of `baselines.run`.

    Values are written as JSON (valid YAML, which `--set` parses), so lists and strings
    survive the round trip.
    """
    out = []
    for key, value in overrides.items():
        if isinstance(value, dict) and value:
            out += flatten_overrides(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={json.dumps(value)}")
    return out


# ------------------------------------------------------------------ checks


def _check_keys(data: dict[str, Any], allowed: dict[str, str], where: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = "; ".join(f"{k}: {v}" for k, v in allowed.items())
            raise SuiteError(f"{where}: unknown key {key!r}{hint}. Allowed keys: {listing}")


def _sub(value: Any, section: str, where: str) -> dict[str, Any]:
    value = _mapping(value, where)
    _check_keys(value, SUB_KEYS[section], where)
    return dict(value)


def _algorithm_overrides(value: Any, where: str) -> dict[str, dict[str, Any]]:
    value = _mapping(value, where)
    for algo, overrides in value.items():
        _mapping(overrides, f"{where}.{algo}")
    return dict(value)


def _check_algorithms_named(overrides: dict[str, Any], algorithms: tuple[str, ...], where: str) -> None:
    """Overrides for an algorithm that does not run there are a typo, not a no-op."""
    for algo in overrides:
        if algo not in algorithms:
            close = difflib.get_close_matches(str(algo), list(algorithms), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SuiteError(
                f"{where}: {algo!r} is not one of the algorithms ({', '.join(algorithms)}){hint}"
            )


def _non_negative(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value >= 0


def _check_throughput(group: Group, where: str) -> None:
    """A number, or a number for each of the group's algorithms (their costs differ severalfold)."""
    sps = group.estimate.get("steps_per_second")
    if sps is None or (not isinstance(sps, dict) and _non_negative(sps)):
        return
    if not isinstance(sps, dict):
        raise SuiteError(f"{where} must be a non-negative number or {{algorithm: number}}, got {sps!r}")
    missing = [algo for algo in group.algorithms if algo not in sps]
    if missing:
        raise SuiteError(
            f"{where} has no figure for {', '.join(missing)} (it gives {', '.join(map(str, sps))})"
        )
    for algo, value in sps.items():
        if not _non_negative(value):
            raise SuiteError(f"{where}.{algo} must be a non-negative number, got {value!r}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SuiteError(f"{where} must be a mapping, got {value!r}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SuiteError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _strings(value: Any, where: str, empty: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or (not value and not empty):
        raise SuiteError(f"{where} must be a non-empty list of names, got {value!r}")
    return [_string(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise SuiteError(f"{where}: a seed count must be at least 1, got {value}")
        return tuple(range(value))
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
    ):
        raise SuiteError(f"{where} must be a list of non-negative integers or a count, got {value!r}")
    if len(set(value)) != len(value):
        raise SuiteError(f"{where} lists a seed twice: {value}")
    return tuple(value)


def _steps(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SuiteError(f"{where} must be a positive integer (env steps), got {value!r}")
    return value


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out
