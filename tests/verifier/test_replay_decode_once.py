"""The replay decodes a block once (issue 10): an export frame is decoded and checked
whole, and the block is built from that value (RawBlock.block_value) with its raw bytes
sliced out of the frame. The verdict and every figure must be what decoding the block's
bytes afresh gives, and a block frame that is not canonical is still rule 1."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.chaingen import ChainSpec, write_chain
from verifier.errors import VerificationFailure
from verifier.export import ExportSource
from verifier.replay import verify_chain
from verifier.sources import RawBlock


class _BytesOnly:
    """An export read as bytes only, as a data directory gives them: no decoded values."""

    def __init__(self, source: ExportSource) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for raw in self._source.blocks(start):
            assert raw.block_value is not None
            yield dataclasses.replace(raw, block_value=None)


def _figures(report: Any) -> dict[str, Any]:
    figures = report.to_dict()
    for changing in ("elapsed_s", "ballots_per_s", "workers"):
        figures.pop(changing)
    return figures


@pytest.mark.parametrize("workers", [1, 2])
def test_a_block_built_from_the_frame_value_verifies_as_its_bytes_do(
    tmp_path: Path, workers: int
) -> None:
    path = tmp_path / "chain.export"
    write_chain(ChainSpec(ballots=600, block_txs=97, duplicate_every=7), path)
    once = ExportSource(path)
    twice = ExportSource(path)
    try:
        from_values = verify_chain(once, workers=workers)
        from_bytes = verify_chain(_BytesOnly(twice), workers=workers)  # type: ignore[arg-type]
    finally:
        once.close()
        twice.close()
    assert from_values.ballots > from_values.accepted_ballots > 0  # duplicates refused
    assert _figures(from_values) == _figures(from_bytes)


def test_a_flipped_signature_byte_in_a_frame_fails_rule_6_with_either_path(
    tmp_path: Path,
) -> None:
    """A signature byte flipped inside a block frame is rule 6 at
    that height (the tx_id, hashed from the raw bytes, no longer matches the tx_root)
    whether the block comes from the frame's value or from its bytes."""
    path = tmp_path / "chain.export"
    write_chain(ChainSpec(ballots=200, block_txs=50), path)
    source = ExportSource(path)
    try:
        raws = list(source.blocks())
    finally:
        source.close()
    target = raws[-2]
    position = len(target.block) - 10  # inside the last transaction's signature
    bent = (
        target.block[:position] + bytes([target.block[position] ^ 1]) + target.block[position + 1 :]
    )

    class _Tampered(_BytesOnly):
        def __init__(self, with_values: bool) -> None:
            super().__init__(ExportSource(path))
            self._with_values = with_values

        def blocks(self, start: int = 1) -> Iterator[RawBlock]:
            from chain import encoding

            for raw in self._source.blocks(start):
                if raw.height == target.height:
                    value = encoding.decode(bent) if self._with_values else None
                    raw = dataclasses.replace(raw, block=bent, block_value=value)
                elif not self._with_values:
                    raw = dataclasses.replace(raw, block_value=None)
                yield raw

    for with_values in (True, False):
        tampered = _Tampered(with_values)
        try:
            with pytest.raises(VerificationFailure) as info:
                verify_chain(tampered, workers=1)  # type: ignore[arg-type]
        finally:
            tampered.close()
        assert (info.value.height, info.value.rule) == (target.height, 6)
