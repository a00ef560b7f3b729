"""Each agent's observation as one gather from the robot's global observation.

`mamujoco_v1` builds agent observations by walking the robot's joint graph every step
(`build_obs`), which costs more than the physics for the many-segment robots. The walk
only ever copies entries of MuJoCo's data, so it can be run once on index arrays instead
of values, giving for each agent the positions its observation takes from the
global observation. Upstream does this too (`observation_factorization`), but it maps
the positions the global observation leaves out (the root's x, y) to index 0; in
`ManySegmentAnt` some joints' nodes read the root's y, so that map is wrong there. Here
those positions index an extra tail appended to the global observation (the skipped
`qpos` entries), so the map covers every robot. The env still checks the map against
the walk on its first reset and keeps the walk if they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

# Leading rows of each MuJoCo array after `qpos` that a gymnasium `<Robot>-v5` observation
# leaves out (the world body; the free joint's forces), in the observation's order; `qpos`
# skips `skipped_qpos` entries.
_LEFT_OUT = {"qvel": 0, "cinert": 1, "cvel": 1, "qfrc_actuator": 6, "cfrc_ext": 1}
_UNMAPPABLE = -1


@dataclass(frozen=True)
class ObservationIndex:
    """`agents[a]` indexes `[global observation, qpos[:skipped_qpos]]`."""

    agents: dict[str, np.ndarray]
    skipped_qpos: int
    uses_skipped_qpos: bool

    def gather(self, state: np.ndarray, data: Any) -> dict[str, np.ndarray]:
        """Every agent's observation, in `state`'s dtype, from the global observation (and the
        skipped `qpos` entries of MuJoCo's `data`, read only when some agent observes them)."""
        if self.uses_skipped_qpos:
            state = np.concatenate((state, data.qpos[: self.skipped_qpos]), dtype=state.dtype)
        return {agent: state[index] for agent, index in self.agents.items()}


def build_observation_index(multi: Any, sim: Any) -> ObservationIndex | None:
    """Run `multi`'s graph walk on index arrays; None if the robot has no `observation_structure`
    or an agent reads an entry the global observation leaves out (other than `qpos`)."""
    structure = getattr(sim, "observation_structure", None)
    if structure is None or multi.agent_obsk is None:
        return None
    size = int(sim.observation_space.shape[0])
    skipped = int(structure.get("skipped_qpos", 0))
    data = sim.data
    proxy = SimpleNamespace()
    proxy.qpos = np.concatenate((size + np.arange(skipped), np.arange(structure["qpos"])))
    offset = int(structure["qpos"])
    for name, left_out_rows in _LEFT_OUT.items():
        shape = getattr(data, name).shape
        count = int(structure.get(name, 0))
        left_out = left_out_rows * int(np.prod(shape[1:]))
        index = np.full(int(np.prod(shape)), _UNMAPPABLE, dtype=np.int64)
        if count:  # the category is in the observation: the entries after the left-out ones
            if count != index.size - left_out:
                return None
            index[left_out:] = np.arange(offset, offset + count)
            offset += count
        setattr(proxy, name, index.reshape(shape))
    if offset != size:
        return None
    agents = {}
    for agent_id, agent in enumerate(multi.possible_agents):
        index = np.asarray(multi._get_obs_agent(agent_id, proxy), dtype=np.int64)
        if (index == _UNMAPPABLE).any():
            return None
        agents[agent] = index
    uses_skipped = any(bool((index >= size).any()) for index in agents.values())
    return ObservationIndex(agents=agents, skipped_qpos=skipped, uses_skipped_qpos=uses_skipped)
