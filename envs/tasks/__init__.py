"""Tasks that ship with the suite, registered when `envs` is imported.

Registration only records entry-point strings: no simulator is imported until a task
is made, so a missing optional dependency only matters for the tasks that need it.
"""

from envs.tasks.mpe import register_mpe_tasks


def register_builtin_tasks() -> None:
    register_mpe_tasks()
