"""Filling a small test disk (a tmpfs the test mounted) to its last byte."""

from __future__ import annotations

import os
from pathlib import Path


def fill(folder: Path) -> Path:
    """Fill the disk to the last byte with one file; returns it (delete it to free space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk_bytes in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk_bytes)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler
