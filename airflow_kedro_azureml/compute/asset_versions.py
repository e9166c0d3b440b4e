"""Local versions of a data asset: ``<asset folder>/<version>/``, numbers sorting as numbers."""

from __future__ import annotations

from pathlib import Path


def version_sort_key(version: str) -> tuple[int, int, str]:
    """Sort numeric versions as numbers, after them other versions as text."""
    if version.isdigit():
        return (0, int(version), "")
    return (1, 0, version)


def local_versions(asset_dir: Path) -> list[str]:
    """The versions found under ``asset_dir``, oldest first (empty if it does not exist)."""
    if not asset_dir.is_dir():
        return []
    return sorted(
        (entry.name for entry in asset_dir.iterdir() if entry.is_dir()), key=version_sort_key
    )
