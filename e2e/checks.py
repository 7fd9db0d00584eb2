"""What a user would check after a run: files landed once and whole, nothing half-written left."""

from __future__ import annotations

import hashlib
from pathlib import Path

STAGING_SUFFIX = ".vobiz-part"


def landed_files(root: Path) -> tuple[list[Path], list[Path]]:
    """(finished files, leftovers) under ``root``: a leftover is a staging file or any hidden file."""
    finished: list[Path] = []
    leftovers: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        hidden = path.name.startswith(".") or path.name.endswith(STAGING_SUFFIX)
        (leftovers if hidden else finished).append(path)
    return finished, leftovers


def sha256_of(data: bytes | Path) -> str:
    if isinstance(data, Path):
        data = data.read_bytes()
    return hashlib.sha256(data).hexdigest()


def expect(condition: bool, message: str) -> None:
    """A case's assertion (kept under ``python -O`` too)."""
    if not condition:
        raise AssertionError(message)
