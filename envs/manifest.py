"""What a run was made with: written beside every result so it can be reproduced."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = (
    "marlsuite",
    "torch",
    "numpy",
    "gymnasium",
    "pettingzoo",
    "mpe2",
    "mujoco",
    "mujoco-warp",
    "warp-lang",
    "gymnasium-robotics",
    "jax",
    "jaxlib",
    "jaxmarl",
    "gfootball",
    "ray",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change results (missing ones left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(path: Path | None = None) -> str | None:
    """The checkout's commit, with `-dirty` when it has uncommitted changes."""
    cwd = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        # code shipped without its checkout (the Ray launcher's nodes): the head's commit
        return os.environ.get("MARLSUITE_GIT_COMMIT")
    return f"{commit}-dirty" if dirty else commit


def run_manifest(**fields: Any) -> dict[str, Any]:
    """Seed, commit, versions and machine, plus whatever the caller adds."""
    return {
        **fields,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }
