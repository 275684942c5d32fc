"""Shell scripts run inside nodes (with `sh -c`, the script's arguments after it). They are files
so that they read, lint and diff as shell; the text is read once, at import."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def script_text(name: str) -> str:
    """The text of `<name>.sh` beside this module."""
    return (FOLDER / f"{name}.sh").read_text()
