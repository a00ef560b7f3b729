"""smac tasks (placeholder: filled in by the StarCraft/Football wrappers issue)."""


def register_smac_tasks() -> None:
    """Register the smac tasks (entry-point strings only; nothing heavy is imported)."""
