"""The same chain verifies alike from RPC, a data directory and an export file; pinned
genesis hashes, export checksums and citizens' receipts (issue 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import votingcontract
from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from tests.verifier.cluster_chain import ClusterChain, run_cli
from verifier.errors import VerificationFailure
from verifier.export import ExportSource, write_export
from verifier.receipts import verify_receipt
from verifier.replay import verify_chain
from verifier.sources import DataDirSource, RawBlock

VARIABLE = ("elapsed_s", "ballots_per_s", "workers")


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in VARIABLE}


def test_rpc_data_dir_and_export_give_identical_results(cluster_chain: ClusterChain) -> None:
    data = DataDirSource(Path(cluster_chain.chain_dir))
    from_data = verify_chain(data, workers=1).to_dict()
    data.close()
    export = ExportSource(Path(cluster_chain.export_file))
    from_export = verify_chain(export, workers=2).to_dict()
    export.close()
    assert comparable(from_data) == comparable(cluster_chain.rpc_report)
    assert comparable(from_export) == comparable(cluster_chain.rpc_report)
    assert from_data["ballots"] == len(cluster_chain.ballots)
    survey = next(
        p for p in from_data["polls"] if p["poll"]["poll_id"] == cluster_chain.poll_ids[0]
    )
    assert survey["results"]["participants"] == 8


def test_cli_verify_pins_the_genesis_hash(cluster_chain: ClusterChain, tmp_path: Path) -> None:
    good = run_cli(
        "verify",
        "--data",
        cluster_chain.chain_dir,
        "--genesis-hash",
        cluster_chain.genesis_hash,
        cwd=tmp_path,
    )
    assert good.returncode == 0, good.stderr
    assert "everything checks" in good.stdout
    assert f"{cluster_chain.head} blocks" in good.stdout
    assert "Satisfied" in good.stdout and "participants: 8" in good.stdout
    wrong = "ab" * 32
    bad = run_cli(
        "verify", "--file", cluster_chain.export_file, "--genesis-hash", wrong, cwd=tmp_path
    )
    assert bad.returncode == 1
    assert f"genesis hashes to {cluster_chain.genesis_hash}, not the pinned {wrong}" in bad.stderr


def test_cli_verify_json_reports_the_first_failure(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    """A forged export (checksum recomputed, so only the replay can tell)."""
    forged = tmp_path / "forged.export"
    source = ExportSource(Path(cluster_chain.export_file))
    ballot = cluster_chain.ballots[1]

    class Altering:
        def genesis(self) -> Genesis:
            return source.genesis()

        def blocks(self, start: int = 1) -> Any:
            for raw in source.blocks():
                if raw.height == ballot["height"]:
                    receipts = list(raw.receipts)
                    old = votingcontract.Receipt.decode(receipts[ballot["position"]])
                    receipts[ballot["position"]] = votingcontract.Receipt(
                        old.tx_id, old.position, "not_eligible", old.poll_id
                    ).encode()
                    raw = RawBlock(raw.height, raw.block, raw.certificate, receipts)
                yield raw

    write_export(Altering(), forged)  # type: ignore[arg-type]
    source.close()
    result = run_cli("verify", "--file", str(forged), "--json", cwd=tmp_path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["failure"]["height"] == ballot["height"]
    assert document["failure"]["rule"] == 11
    assert document["failure"]["reason"].startswith("says not_eligible")
    assert document["verified_blocks"] == ballot["height"] - 1


def test_export_checksum_and_truncation_are_detected(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    data = Path(cluster_chain.export_file).read_bytes()
    corrupted = tmp_path / "corrupted.export"
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x40
    corrupted.write_bytes(bytes(damaged))
    with pytest.raises(VerificationFailure, match="fails its checksum"):
        ExportSource(corrupted)
    truncated = tmp_path / "truncated.export"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(VerificationFailure, match="truncated"):
        ExportSource(truncated)
    cut_at_frame = tmp_path / "no-end.export"
    # Drop exactly the end frame: walk the frames.
    offset, frames = 0, []
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        frames.append(offset)
        offset += 4 + length
    cut_at_frame.write_bytes(data[: frames[-1]])
    with pytest.raises(VerificationFailure, match="truncated"):
        ExportSource(cut_at_frame)
    result = run_cli("verify", "--file", str(corrupted), cwd=tmp_path)
    assert result.returncode == 1 and "fails its checksum" in result.stderr


def receipt_document(cluster_chain: ClusterChain) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(cluster_chain.receipt_file).read_text())
    return document


def test_a_saved_receipt_verifies_without_replay(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    saved = cluster_chain.cli_outputs["receipt_save"]
    assert saved["returncode"] == 0, saved
    check = verify_receipt(receipt_document(cluster_chain))
    ballot = cluster_chain.ballots[0]
    assert check.tx_id.hex() == cluster_chain.receipt_tx_id
    assert (check.height, check.position) == (ballot["height"], ballot["position"])
    assert check.accepted and check.receipt_certified and check.signers >= 3
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(cluster_chain.genesis_json)
    result = run_cli(
        "receipt",
        "verify",
        cluster_chain.receipt_file,
        "--genesis",
        str(genesis_file),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "receipt: accepted (certified by block" in result.stdout
    checked = cluster_chain.cli_outputs["receipt_check"]
    assert checked["returncode"] == 0, checked
    assert "is still on the chain" in checked["stdout"]


def test_an_altered_receipt_fails(cluster_chain: ClusterChain) -> None:
    document = receipt_document(cluster_chain)
    old = votingcontract.Receipt.decode(bytes.fromhex(document["receipt"]))
    document["receipt"] = (
        votingcontract.Receipt(old.tx_id, old.position, "accepted", bytes(32)).encode().hex()
    )
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(document)
    assert caught.value.rule == 7
    assert "is not in the receipts root that block" in str(caught.value)


def test_a_receipt_without_its_next_block_is_not_yet_certified(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    document = receipt_document(cluster_chain)
    document["receipt_proof"] = None
    check = verify_receipt(document)
    assert check.accepted and not check.receipt_certified
    path = tmp_path / "early.json"
    path.write_text(json.dumps(document))
    result = run_cli("receipt", "verify", str(path), cwd=tmp_path)
    assert result.returncode == 3 and "not yet certified" in result.stdout


def test_a_receipt_checked_against_another_genesis_fails(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    real = Genesis.from_json(cluster_chain.genesis_json)
    impostors = tuple(
        NamedKey(v.name, PrivateKey.from_seed(bytes([i + 1]) * 32).public_key)
        for i, v in enumerate(real.validators)
    )
    other = Genesis(real.chain_id, real.genesis_time_ms, impostors, real.admins, real.attesters)
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(receipt_document(cluster_chain), other)
    assert caught.value.rule == 1
    assert f"the receipt is for genesis {cluster_chain.genesis_hash}" in str(caught.value)
    # A receipt whose own genesis copy was swapped is caught by its genesis hash too,
    # and one whose hash was swapped as well fails on the certificate.
    document = receipt_document(cluster_chain)
    document["genesis"] = json.loads(other.to_json())
    document["genesis_hash"] = other.genesis_hash.hex()
    with pytest.raises(VerificationFailure) as caught:
        verify_receipt(document)
    assert caught.value.rule == 5 and "not a validator" in str(caught.value)
    genesis_file = tmp_path / "other-genesis.json"
    genesis_file.write_text(other.to_json())
    result = run_cli(
        "receipt",
        "verify",
        cluster_chain.receipt_file,
        "--genesis",
        str(genesis_file),
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "the given genesis hashes to" in result.stderr


def test_history_lists_records_with_checked_proofs(cluster_chain: ClusterChain) -> None:
    history = cluster_chain.cli_outputs["history"]
    assert history["returncode"] == 0, history
    assert "ok: 3 validators signed; accepted, receipt certified" in history["stdout"]
    records = json.loads(cluster_chain.cli_outputs["history_json"]["stdout"])["records"]
    assert len(records) == 2  # voter 0: the survey, and the budget poll (revoted)
    # Each record carries the voter's own ballot with its proofs (POST /v1/history).
    assert all(
        r["proof"]["ok"] and r["committed"]["tx_proof"]["siblings"] is not None for r in records
    )
    assert cluster_chain.cli_outputs["verify_rpc"]["returncode"] == 0


def test_data_dir_source_never_changes_the_original(
    cluster_chain: ClusterChain, tmp_path: Path
) -> None:
    copy = tmp_path / "n1"
    shutil.copytree(
        Path(cluster_chain.chain_dir).parent, copy, ignore=shutil.ignore_patterns("LOCK")
    )
    before = {p.name: p.stat().st_mtime_ns for p in (copy / "chain").iterdir()}
    source = DataDirSource(copy)  # the node's data dir: its chain/ is found
    verify_chain(source)
    source.close()
    after = {p.name: p.stat().st_mtime_ns for p in (copy / "chain").iterdir()}
    assert before == after
