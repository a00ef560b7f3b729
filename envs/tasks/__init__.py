"""Tasks that ship with the suite, registered when `envs` is imported.

Registration only records entry-point strings: no simulator is imported until a task
is made, so a missing optional dependency only matters for the tasks that need it.
"""

from bidexhands.registration import register_bidexhands_tasks
from envs.tasks.football import register_football_tasks
from envs.tasks.mpe import register_mpe_tasks
from envs.tasks.smac import register_smac_tasks
from envs.tasks.smax import register_smax_tasks
from safe_mamujoco.registration import register_safe_mamujoco_tasks


def register_builtin_tasks() -> None:
    register_mpe_tasks()
    register_safe_mamujoco_tasks()
    register_bidexhands_tasks()
    register_smax_tasks()
    register_smac_tasks()
    register_football_tasks()
