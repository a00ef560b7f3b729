"""The task registry: `register`, `make`, `registered_tasks`.

Names are `family/task` (e.g. `mpe2/simple_spread`). `make("pkg.module:Task")`
imports `pkg.module` first so that it can register `Task`; installed packages can
also register through the `marlsuite.envs` entry-point group, whose entries are
called (or imported) once, before the first lookup.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from envs import extras
from envs.core import MultiAgentEnv
from envs.errors import MissingDependencyError, UnknownTaskError

ENTRY_POINT_GROUP = "marlsuite.envs"
OWN_PACKAGES = ("envs", "safe_mamujoco", "bidexhands", "baselines", "leaderboards")

EntryPoint = str | Callable[..., MultiAgentEnv]


@dataclass(frozen=True)
class TaskEntry:
    """A registered task: how to build it and what it needs."""

    name: str
    entry_point: EntryPoint
    family: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    extra: str | None = None
    description: str = ""
    requires: str | None = None  # a requirement pip cannot install (`envs.extras.REQUIREMENTS` key)

    def requirement(self) -> extras.Requirement | None:
        """What the task needs beyond the core install, if the suite knows it."""
        return extras.requirement(self.extra or self.requires)

    def missing(self) -> list[str]:
        """The modules (or programs) this task needs that are not here."""
        req = self.requirement()
        return req.missing() if req is not None else []


_REGISTRY: dict[str, TaskEntry] = {}
_plugins_loaded = False


def register(
    name: str,
    entry_point: EntryPoint,
    *,
    family: str | None = None,
    extra: str | None = None,
    description: str = "",
    requires: str | None = None,
    override: bool = False,
    **defaults: Any,
) -> TaskEntry:
    """Register a task.

    `entry_point` is a callable or a `"module:attribute"` string (imported on `make`),
    called as `entry_point(num_envs=, device=, seed=, validate_actions=, **kwargs)`
    with `defaults` updated by the caller's keyword arguments. `family` defaults to
    the part of the name before `/`. `extra` names the `pip install marlsuite[extra]`
    that provides the task's optional dependencies (checked before the task is made);
    `requires` names one pip cannot provide (e.g. "smac": the StarCraft II game), which
    `python -m envs list` reports.
    """
    if not name or name != name.strip():
        raise ValueError(f"task name must be a non-empty string without surrounding spaces, got {name!r}")
    if name in _REGISTRY and not override:
        raise ValueError(f"task {name!r} is already registered; pass override=True to replace it")
    if not (callable(entry_point) or (isinstance(entry_point, str) and ":" in entry_point)):
        raise ValueError(
            f"entry_point for {name!r} must be a callable or a 'module:attribute' string, got {entry_point!r}"
        )
    entry = TaskEntry(
        name=name,
        entry_point=entry_point,
        family=family or (name.split("/", 1)[0] if "/" in name else "custom"),
        defaults=dict(defaults),
        extra=extra,
        description=description,
        requires=requires,
    )
    _REGISTRY[name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a task (mainly for tests and notebooks that re-register)."""
    _REGISTRY.pop(name, None)


def registered_tasks(family: str | None = None) -> list[TaskEntry]:
    """All registered tasks, sorted by name, optionally of one family."""
    _load_plugins()
    return [e for n, e in sorted(_REGISTRY.items()) if family is None or e.family == family]


def get_entry(name: str) -> TaskEntry:
    """The entry for `name` (`"module:Task"` imports the module first)."""
    _load_plugins()
    if ":" in name:
        module, name = name.split(":", 1)
        _import_task_module(module, name)
    if name in _REGISTRY:
        return _REGISTRY[name]
    if "/" not in name:  # a bare task name (`ShadowHandOver`) is fine when only one family has it
        owners = [e for n, e in _REGISTRY.items() if n.split("/", 1)[-1] == name]
        if len(owners) == 1:
            return owners[0]
        if owners:
            raise UnknownTaskError(
                f"task name {name!r} is ambiguous: {', '.join(sorted(e.name for e in owners))}; "
                "give the family too"
            )
    raise UnknownTaskError(_unknown_message(name))


def make(
    name: str,
    *,
    num_envs: int = 1,
    device: str | torch.device = "cpu",
    seed: int | None = None,
    validate_actions: bool = True,
    **task_kwargs: Any,
) -> MultiAgentEnv:
    """Build `num_envs` copies of a registered task on `device`.

    `seed` seeds the first `reset()`; task keyword arguments override the defaults
    given at registration.
    """
    entry = get_entry(name)
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    kwargs = {**entry.defaults, **task_kwargs}
    requirement = extras.requirement(entry.extra)
    if requirement is not None and (missing := requirement.missing()):
        raise MissingDependencyError(
            f"task {entry.name!r} needs {requirement.name}, which is not installed here "
            f"(missing: {', '.join(missing)}); {requirement.install_hint()}"
        )
    try:
        factory = _resolve(entry.entry_point)
        env = factory(
            num_envs=num_envs,
            device=torch.device(device),
            seed=seed,
            validate_actions=validate_actions,
            **kwargs,
        )
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if not missing or missing in OWN_PACKAGES:
            raise
        raise MissingDependencyError(_missing_message(entry, missing)) from error
    except TypeError as error:
        bad = re.search(r"unexpected keyword argument '([^']+)'", str(error))
        if bad is None:
            raise
        raise ValueError(
            f"task {entry.name!r} does not take the option {bad.group(1)!r} "
            f"(passed: {sorted(task_kwargs)}); {_options_hint(entry)}"
        ) from error
    env.spec = dataclasses.replace(env.spec, name=entry.name, family=entry.family)
    return env


def _options_hint(entry: TaskEntry) -> str:
    """The factory's named options, for an error message."""
    import inspect

    try:
        params = inspect.signature(_resolve(entry.entry_point)).parameters
    except (TypeError, ValueError):
        return "see the task's documentation"
    fixed = {"num_envs", "device", "seed", "validate_actions"}
    named = [n for n, p in params.items() if n not in fixed and p.kind is p.KEYWORD_ONLY]
    return f"its options: {', '.join(named)}" if named else "see the task's documentation"


def _resolve(entry_point: EntryPoint) -> Callable[..., MultiAgentEnv]:
    if callable(entry_point):
        return entry_point
    module, attribute = entry_point.split(":", 1)
    target: Any = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _missing_message(entry: TaskEntry, module: str) -> str:
    known = extras.requirement(entry.extra)
    if known is not None:
        hint = known.install_hint()
    elif entry.extra:  # a third-party task that names an extra of its own package
        hint = f"install it with: pip install {module} (the task names the extra {entry.extra!r})"
    else:
        hint = f"install it with: pip install {module}"
    return f"task {entry.name!r} needs the Python package {module!r}, which is not installed; {hint}"


def _import_task_module(module: str, name: str) -> None:
    """Import the module of a `module:Task` name, saying what was looked up when it fails."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = error.name or module
        if module == missing or module.startswith(missing + "."):
            raise UnknownTaskError(
                f"task {module}:{name}: no module {missing!r} on the Python path (looked up {module!r} "
                f"to register {name!r}). The part before ':' is imported as a Python module: run from the "
                f"folder that holds {module.split('.')[0]}(.py), or add that folder to PYTHONPATH "
                f"(PYTHONPATH=/path/to/folder python -m ...), or pip install the package that provides it"
            ) from None
        raise MissingDependencyError(
            f"task module {module!r} (for {name!r}) imports {missing!r}, which is not installed; "
            f"install it with: pip install {missing.split('.')[0]}"
        ) from error


def _unknown_message(name: str) -> str:
    names = sorted(_REGISTRY)
    if not names:
        return f"unknown task {name!r}: no task is registered"
    by_lower = {n.lower(): n for n in names}
    wanted = name.lower()
    close = [n for n in names if n.lower().split("/")[-1] == wanted.split("/")[-1]]
    close += [by_lower[m] for m in difflib.get_close_matches(wanted, list(by_lower), n=5, cutoff=0.6)]
    short = {n.lower().split("/")[-1]: n for n in names}
    close += [
        short[m] for m in difflib.get_close_matches(wanted.split("/")[-1], list(short), n=5, cutoff=0.6)
    ]
    suggestions = list(dict.fromkeys(close))[:5]
    hint = f"did you mean {', '.join(suggestions)}?" if suggestions else "no close match"
    return (
        f"unknown task {name!r}: {hint} "
        f"(list all {len(names)} tasks with `python -m envs list` or envs.registered_tasks())"
    )


def _load_plugins() -> None:
    """Let installed packages register their tasks through the entry-point group."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
            if callable(loaded):
                loaded()
        except Exception as error:  # a broken plugin must not break every other task
            warnings.warn(
                f"could not load marlsuite task plugin {entry_point.name!r} ({entry_point.value}): {error!r}",
                stacklevel=2,
            )
