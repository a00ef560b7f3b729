"""The algorithm registry: name -> class, with what each supports."""

from __future__ import annotations

import difflib

from baselines.algorithms.base import OnPolicyAlgorithm
from baselines.algorithms.happo import HAPPO
from baselines.algorithms.hatrpo import HATRPO
from baselines.algorithms.macpo import MACPO
from baselines.algorithms.mappo import MAPPO
from baselines.algorithms.mappo_l import MAPPOLagrangian
from baselines.algorithms.mat import MAT, MATDec
from baselines.algorithms.qmix import QMIX

# QMIX is off-policy (`off_policy = True`): baselines.offpolicy trains it, not the on-policy loop
ALGORITHMS: dict[str, type[OnPolicyAlgorithm] | type[QMIX]] = {
    cls.name: cls for cls in (MAPPO, HAPPO, HATRPO, MACPO, MAPPOLagrangian, MAT, MATDec, QMIX)
}


def get_algorithm(name: str) -> type[OnPolicyAlgorithm] | type[QMIX]:
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    close = difflib.get_close_matches(name.lower(), list(ALGORITHMS), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ValueError(f"unknown algorithm {name!r}: {hint}(available: {', '.join(ALGORITHMS)})")


__all__ = ["ALGORITHMS", "OnPolicyAlgorithm", "get_algorithm"]
