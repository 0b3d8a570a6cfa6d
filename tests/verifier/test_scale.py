"""Verifying generated chains (bench/chaingen.py): results equal what was cast, and the
rate compared with the machine's single-core Ed25519 ceiling (issue 6)."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import pytest

from bench.chaingen import ChainSpec, GeneratedChain, write_chain
from chain.keys import PrivateKey, verify_signature
from verifier.export import ExportSource
from verifier.replay import Report, verify_chain


def ed25519_rate_per_s(count: int = 2_000) -> float:
    """Single-core Ed25519 verifications per second on this machine, now."""
    key = PrivateKey.from_seed(b"\x07" * 32)
    message = b"\x01" * 32
    signature = key.sign(message)
    started = time.perf_counter()
    for _ in range(count):
        verify_signature(key.public_key, signature, message)
    return count / (time.perf_counter() - started)


def check_results(chain: GeneratedChain, report: Report) -> None:
    assert report.ballots == chain.ballots_cast
    assert report.blocks == chain.head_height() == chain.built
    for entry in report.polls:
        poll_id = bytes.fromhex(entry["poll"]["poll_id"])
        counts = [o["count"] for o in entry["results"]["questions"][0]["options"]]
        assert counts == chain.expected_counts[poll_id], entry["poll"]["title"]


def verify_file(path: Path, workers: int) -> Report:
    source = ExportSource(path)
    try:
        return verify_chain(source, workers=workers)
    finally:
        source.close()


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def verify_with_cpu(path: Path, workers: int) -> tuple[Report, float, float]:
    """The report, and the CPU seconds of this process and of its worker processes:
    on a shared machine wall time depends on the neighbours, CPU time much less."""
    main, children = cpu_s(resource.RUSAGE_SELF), cpu_s(resource.RUSAGE_CHILDREN)
    report = verify_file(path, workers)
    return (
        report,
        cpu_s(resource.RUSAGE_SELF) - main,
        cpu_s(resource.RUSAGE_CHILDREN) - children,
    )


def test_a_generated_2000_ballot_chain_verifies_with_the_cast_results(tmp_path: Path) -> None:
    path = tmp_path / "chain.export"
    chain = write_chain(ChainSpec(ballots=2_000, duplicate_every=50), path)
    report = verify_file(path, workers=2)
    check_results(chain, report)
    # 40 ballots cast twice: 20 in the budget poll (a revote, accepted), 20 refused.
    assert (report.ballots, report.accepted_ballots) == (2_040, 2_020)
    assert verify_file(path, workers=1).to_dict()["app_hash"] == report.app_hash


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_100000_ballot_chain_verifies_and_reports_its_rate(tmp_path: Path) -> None:
    path = tmp_path / "chain.export"
    started = time.monotonic()
    chain = write_chain(ChainSpec(ballots=100_000), path)
    generated_s = time.monotonic() - started
    ceiling_before = ed25519_rate_per_s()
    workers = os.cpu_count() or 2
    report, main_cpu_s, worker_cpu_s = verify_with_cpu(path, workers)
    serial, serial_cpu_s, _ = verify_with_cpu(path, 1)
    ceiling = (ceiling_before + ed25519_rate_per_s()) / 2
    check_results(chain, report)
    # With the main process and `workers` processes on os.cpu_count() cores, an idle
    # machine finishes in about max(main CPU, total CPU / cores).
    idle_s = max(main_cpu_s, (main_cpu_s + worker_cpu_s) / (os.cpu_count() or 1))
    figures = {
        "ballots": report.ballots,
        "transactions": report.transactions,
        "blocks": report.blocks,
        "export_bytes": path.stat().st_size,
        "generate_s": round(generated_s, 1),
        "workers": workers,
        "verify_s": round(report.elapsed_s, 1),
        "ballots_per_s": round(report.ballots_per_s),
        "verify_s_1_worker": round(serial.elapsed_s, 1),
        "ballots_per_s_1_worker": round(serial.ballots_per_s),
        "speedup": round(serial.elapsed_s / report.elapsed_s, 2),
        "cpu_s_main": round(main_cpu_s, 1),
        "cpu_s_workers": round(worker_cpu_s, 1),
        "cpu_s_1_worker": round(serial_cpu_s, 1),
        "idle_machine_speedup": round(serial_cpu_s / idle_s, 2),
        "idle_machine_ballots_per_s": round(report.ballots / idle_s),
        "ed25519_verify_per_s_1_core": round(ceiling),
        "ratio_to_1_core_ed25519": round(report.ballots_per_s / ceiling, 2),
        "idle_ratio_to_1_core_ed25519": round(report.ballots / idle_s / ceiling, 2),
        "load_average": os.getloadavg(),
    }
    print("\nverifier scale:", json.dumps(figures))
    results = Path(__file__).resolve().parents[2] / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "verifier_100k.json").write_text(json.dumps(figures, indent=2) + "\n")
    assert report.ballots == 100_000
