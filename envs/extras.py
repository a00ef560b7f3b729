"""What each optional part of the suite needs, whether it is here, and how to install it.

One table serves `envs.make` (a clean `MissingDependencyError` before a simulator is
imported), `python -m envs list` (which tasks cannot run here) and the error messages, so
the install command a user reads fits how the suite itself was installed: from a clone
(`pip install -e ".[mujoco]"`) or from a wheel (`pip install 'marlsuite[mujoco]'`).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Requirement:
    """An optional dependency of some tasks: the modules it provides and what else it needs."""

    name: str
    modules: tuple[str, ...]
    extra: str | None = None  # the `marlsuite[extra]` that installs the modules
    then: str = ""  # a step after pip, e.g. building gfootball
    manual: str = ""  # how to get it when pip cannot (SMAC)
    game: bool = False  # StarCraft II: a program, not a Python package

    def missing(self) -> list[str]:
        """The modules (or the game) that are not here; empty when everything is."""
        gone = [m for m in self.modules if not module_available(m)]
        if self.game and not os.path.isdir(sc2_path()):
            gone.append(f"StarCraft II at {sc2_path()}")
        return gone

    def install_command(self) -> str:
        if self.extra is None:
            return self.manual
        command = pip_install_extra(self.extra)
        return f"{command} && {self.then}" if self.then else command

    def install_hint(self) -> str:
        """'install it with: ...', saying where to run it when the suite is a clone."""
        where = f" (in {SOURCE_ROOT})" if self.extra and installed_from_source() else ""
        return f"install it with: {self.install_command()}{where}"


SMAC_MANUAL = (
    "pip install git+https://github.com/oxwhirl/smac.git (smacv2: .../oxwhirl/smacv2.git), then install "
    "the StarCraft II game and its maps and set SC2PATH (README: StarCraft)"
)

REQUIREMENTS: dict[str, Requirement] = {
    "mujoco": Requirement("MuJoCo and Gymnasium-Robotics", ("mujoco", "gymnasium_robotics"), extra="mujoco"),
    "hands": Requirement(
        "MuJoCo, MuJoCo Warp and Gymnasium-Robotics",
        ("mujoco", "mujoco_warp", "gymnasium_robotics"),
        extra="hands",
    ),
    "smax": Requirement("JAX and JaxMARL", ("jax", "jaxmarl"), extra="smax"),
    "football": Requirement(
        "gfootball (built from source)",
        ("gfootball", "gym"),
        extra="football",
        then="bash scripts/install_football.sh",
    ),
    "ray": Requirement("Ray", ("ray",), extra="ray"),
    "smac": Requirement("smac and the StarCraft II game", ("smac",), manual=SMAC_MANUAL, game=True),
    "smacv2": Requirement("smacv2 and the StarCraft II game", ("smacv2",), manual=SMAC_MANUAL, game=True),
}


def module_available(name: str) -> bool:
    """Whether a top-level module can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken parent
        return False


def sc2_path() -> str:
    return os.path.expanduser(os.environ.get("SC2PATH", "~/StarCraftII"))


def installed_from_source() -> bool:
    """True when the suite runs from a clone (an editable install, or the clone on sys.path):
    its packages then sit beside pyproject.toml; a wheel puts them in site-packages without it."""
    return (SOURCE_ROOT / "pyproject.toml").exists()


def pip_install_extra(extra: str) -> str:
    """The command that installs `extra` the way the suite was installed."""
    if installed_from_source():
        return f'pip install -e ".[{extra}]"'
    return f"pip install 'marlsuite[{extra}]'"


def requirement(key: str | None) -> Requirement | None:
    """The requirement a task entry names; an unknown key (a third-party extra) has none."""
    return REQUIREMENTS.get(key) if key else None
