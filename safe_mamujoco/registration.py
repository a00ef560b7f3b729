"""Safe MaMuJoCo task registration (placeholder)."""


def register_safe_mamujoco_tasks() -> None:
    """Register the MaMuJoCo and safe tasks (entry-point strings only)."""
