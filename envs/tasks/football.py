"""football tasks (placeholder: filled in by the StarCraft/Football wrappers issue)."""


def register_football_tasks() -> None:
    """Register the football tasks (entry-point strings only; nothing heavy is imported)."""
