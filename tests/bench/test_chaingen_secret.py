"""bench/chaingen.py's secret poll (issue 16): a generated chain with trustees, encrypted
ballots and their decryption replays, and the verifier's counts are what was cast."""

from __future__ import annotations

from pathlib import Path

from bench.chaingen import ChainSpec, write_chain
from verifier.export import ExportSource
from verifier.replay import verify_chain


def test_a_secret_poll_replays_to_the_counts_cast(tmp_path: Path) -> None:
    path = tmp_path / "secret.export"
    chain = write_chain(ChainSpec(ballots=8, polls=2, block_txs=5, secret_ballots=12), path)
    assert chain.secret_poll_id is not None
    source = ExportSource(path)
    try:
        report = verify_chain(source, workers=1)
    finally:
        source.close()
    assert report.blocks == chain.head_height() == chain.built
    assert report.ballots == report.accepted_ballots == chain.ballots_cast == 8 + 12
    results = {bytes.fromhex(e["poll"]["poll_id"]): e["results"] for e in report.polls}
    secret = results[chain.secret_poll_id]
    assert secret["choices"] == "secret" and secret["participants"] == 12
    counts = [o["count"] for o in secret["questions"][0]["options"]]
    assert counts == chain.expected_counts[chain.secret_poll_id] == [3, 5, 2, 2]
    for poll_id in chain.poll_ids:
        assert results[poll_id]["choices"] == "public"
        counts = [o["count"] for o in results[poll_id]["questions"][0]["options"]]
        assert counts == chain.expected_counts[poll_id]


def test_without_secret_ballots_the_chain_is_as_before(tmp_path: Path) -> None:
    chain = write_chain(ChainSpec(ballots=8, polls=2, block_txs=5), tmp_path / "plain.export")
    assert chain.secret_poll_id is None and chain.built == chain.head_height() == 2 + 1 + 2 + 1
