"""treatykb: an open knowledge base of arms-control treaties served as a JSON REST API."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """Find a directory shipped inside the wheel, or at the repository root in a checkout."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name
