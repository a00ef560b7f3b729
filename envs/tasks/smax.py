"""smax tasks (placeholder: filled in by the StarCraft/Football wrappers issue)."""


def register_smax_tasks() -> None:
    """Register the smax tasks (entry-point strings only; nothing heavy is imported)."""
