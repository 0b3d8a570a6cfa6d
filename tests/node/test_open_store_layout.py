"""A node that opens a layout 1 chain store (from before issue 13's disk work) says in its
log that it rewrote it, since older releases cannot read it afterwards."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chain.store import LAYOUT
from node.service import open_store
from tests.chain.test_store_layout import make_layout_1, store_with_blocks


def test_a_layout_1_store_is_rewritten_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "chain"
    make_layout_1(path, store_with_blocks(path, blocks=2))
    with caplog.at_level(logging.WARNING, logger="votechain.node"):
        store = open_store(path, "n1")
    store.close()
    assert f"n1: rewrote the chain store at {path} from layout 1 to layout {LAYOUT}" in (
        caplog.text
    )


def test_a_layout_2_store_opens_without_a_word(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "chain"
    store_with_blocks(path, blocks=1)
    with caplog.at_level(logging.WARNING, logger="votechain.node"):
        open_store(path, "n1").close()
    assert "rewrote" not in caplog.text
