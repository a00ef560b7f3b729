"""In-process vector: N copies stepped one after another in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from envs.vector.copy import AutoResetCopy, CopyEnv, CopySpec, CopyStep


class SyncVector:
    """Steps N copies in a loop; cheapest for fast simulators and for one copy."""

    def __init__(self, env_fns: Sequence[Callable[[], CopyEnv]]):
        self.copies = [AutoResetCopy(fn()) for fn in env_fns]
        self.spec: CopySpec = self.copies[0].spec

    def reset(self, seeds: Sequence[int | None]) -> list[CopyStep]:
        return [copy.reset(seed) for copy, seed in zip(self.copies, seeds, strict=True)]

    def step(self, actions: Sequence[dict[str, np.ndarray]]) -> list[CopyStep]:
        if len(self.copies) == 1:  # the common fast-simulator case: no zip, no comprehension
            return [self.copies[0].step(actions[0])]
        return [copy.step(a) for copy, a in zip(self.copies, actions, strict=True)]

    def render(self, index: int) -> np.ndarray:
        return self.copies[index].render()

    def close(self) -> None:
        for copy in self.copies:
            copy.close()
        self.copies = []
