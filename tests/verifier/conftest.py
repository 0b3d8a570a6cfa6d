from __future__ import annotations

import pytest

from tests.verifier.cluster_chain import ClusterChain, shared_cluster_chain


@pytest.fixture(scope="session")
def cluster_chain(tmp_path_factory: pytest.TempPathFactory) -> ClusterChain:
    """The chain of a real 4-node cluster, built once per test run (see cluster_chain.py)."""
    return shared_cluster_chain(tmp_path_factory)
