from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import LocalCluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A running 4-node cluster of OS processes; stopped (SIGTERM) after the test."""
    local = LocalCluster(tmp_path)
    local.start()
    try:
        yield local
    finally:
        local.stop()
