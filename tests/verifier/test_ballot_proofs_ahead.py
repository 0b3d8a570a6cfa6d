"""Encrypted ballots' proofs checked ahead by the replay's workers (verifier/ballot_proofs.py):
with 2 workers the main process checks none of them itself, and every verdict, result
and failure is the one a single-process replay gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.chaingen import ChainSpec, write_chain
from tests.verifier import forge, forge_secret
from tests.verifier.test_forged_secret_poll import BAD, chain_only
from verifier.errors import VerificationFailure
from verifier.export import ExportSource
from verifier.replay import Report, verify_chain
from votingcontract import secret_polls


def replay(path: Path, workers: int) -> Report:
    source = ExportSource(path)
    try:
        return verify_chain(source, workers=workers)
    finally:
        source.close()


def test_two_workers_check_every_ballots_proofs_and_count_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.export"
    chain = write_chain(ChainSpec(ballots=0, block_txs=5, secret_ballots=30), path)
    alone = replay(path, 1)
    checked_here = 0
    proofs_hold = secret_polls._proofs_hold

    def counted(*args: Any) -> bool:
        nonlocal checked_here
        checked_here += 1
        return proofs_hold(*args)

    monkeypatch.setattr(secret_polls, "_proofs_hold", counted)
    pooled = replay(path, 2)
    # The pool's processes were forked with the counter too, but count in their own
    # memory: what counts here is the main process's own checks.
    assert checked_here == 0
    assert pooled.accepted_ballots == alone.accepted_ballots == chain.ballots_cast == 30
    assert pooled.app_hash == alone.app_hash and pooled.polls == alone.polls


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_a_forged_secret_poll_fails_alike_with_two_workers(case: forge.ChainCase) -> None:
    failures = []
    for workers in (1, 2):
        with pytest.raises(VerificationFailure) as caught:
            verify_chain(chain_only(forge.forge_chain(case)), workers=workers)
        failures.append(caught.value)
    assert str(failures[0]) == str(failures[1])
    assert (failures[1].height, failures[1].rule) == (case.height, case.rule)


def test_the_forged_cases_include_a_failing_proof_recorded_accepted() -> None:
    assert any("bad_ballot_proof" in c.says for c in forge_secret.SECRET_CASES if c.rule)
