"""`votechain verify --file EXPORT`: what the auditor is told about an export file
(PROTOCOL.md 14.2) that is damaged or was made wrongly, with a correct checksum where the
forgery needs one, so the frame check itself must speak: which file, which block frame
(rule 1 at that height) and why.

Issue 12: mutation testing found the export's header check free to accept a file of
another version, and the words of these refusals free to change or vanish.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import pytest

from chain import encoding
from tests.verifier.forge import valid_chain
from verifier.errors import VerificationFailure
from verifier.export import EXPORT_VERSION, MAGIC, ExportSource, write_export


def _frames(path: Path, values: list[Any], count: int | None = None) -> Path:
    """An export file of `values`, one a frame, closed by an end frame whose checksum is
    right and whose count is `count` (default: every frame after the first)."""
    out, digest = bytearray(), hashlib.sha256()
    for value in values:
        data = encoding.encode(value)
        chunk = struct.pack(">I", len(data)) + data
        digest.update(chunk)
        out += chunk
    end = encoding.encode(["end", len(values) - 1 if count is None else count, digest.digest()])
    path.write_bytes(bytes(out) + struct.pack(">I", len(end)) + end)
    return path


def _header() -> list[Any]:
    return [MAGIC, EXPORT_VERSION, valid_chain().genesis_doc.to_value()]


def _block_frame(height: int = 1) -> list[Any]:
    raw = valid_chain().raw[height - 1]
    return [
        "block",
        height,
        encoding.decode(raw.block),
        encoding.decode(raw.certificate),
        list(raw.receipts),
    ]


def _refusal_on_open(path: Path) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as caught:
        ExportSource(path)
    return caught.value


def _refusal_reading(path: Path) -> VerificationFailure:
    source = ExportSource(path)
    try:
        with pytest.raises(VerificationFailure) as caught:
            list(source.blocks())
    finally:
        source.close()
    return caught.value


def test_an_export_written_and_read_back_gives_the_chains_blocks(tmp_path: Path) -> None:
    chain = valid_chain()
    path = tmp_path / "chain.export"
    assert write_export(chain, path) == chain.head_height()
    assert [p.name for p in tmp_path.iterdir()] == ["chain.export"]
    source = ExportSource(path)
    try:
        assert source.genesis() == chain.genesis()
        assert source.head_height() == chain.head_height()
        got = list(source.blocks())
    finally:
        source.close()
    assert [(r.height, r.block, r.certificate, r.receipts) for r in got] == [
        (r.height, r.block, r.certificate, r.receipts) for r in chain.raw
    ]


@pytest.mark.parametrize(
    "header",
    [
        [MAGIC, EXPORT_VERSION + 1, None],
        ["votechain-backup", EXPORT_VERSION, None],
    ],
    ids=["other-version", "other-magic"],
)
def test_a_file_of_another_kind_or_version_is_refused(tmp_path: Path, header: list[Any]) -> None:
    header[2] = _header()[2]
    path = _frames(tmp_path / "x.export", [header, _block_frame()])
    failure = _refusal_on_open(path)
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        None,
        f"export file {path}",
        f"is not a {MAGIC} file of version {EXPORT_VERSION}",
        None,
    )


def test_a_header_of_two_fields_is_refused_naming_it(tmp_path: Path) -> None:
    path = _frames(tmp_path / "x.export", [[MAGIC, EXPORT_VERSION], _block_frame()])
    failure = _refusal_on_open(path)
    assert (failure.subject, failure.reason) == (
        f"export file {path}",
        "export header: expected 3 fields, got 2",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f[:4], "block frame: expected 5 fields, got 4"),
        (lambda f: ["blocks", *f[1:]], "frame 1 is 'blocks', not a block"),
        (lambda f: [f[0], 2, *f[2:]], "holds height 2 where 1 belongs"),
        (lambda f: [f[0], "1", *f[2:]], "block frame height: expected an integer, got str"),
        (lambda f: [*f[:4], "receipts"], "receipts: expected an array, got str"),
        (lambda f: [*f[:4], [1]], "receipt: expected bytes, got int"),
    ],
    ids=[
        "four-fields",
        "not-a-block",
        "wrong-height",
        "height-text",
        "receipts-text",
        "receipt-int",
    ],
)
def test_a_bad_block_frame_fails_rule_1_at_its_height_saying_why(
    tmp_path: Path, change: Any, reason: str
) -> None:
    path = _frames(tmp_path / "x.export", [_header(), change(_block_frame())])
    failure = _refusal_reading(path)
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        1,
        "export frame of block 1",
        reason,
        1,
    )


def _good_file(tmp_path: Path) -> bytes:
    path = tmp_path / "good.export"
    write_export(valid_chain(), path)
    return path.read_bytes()


def _end_frame_at(data: bytes) -> int:
    """Where the end frame's length prefix starts in a well-formed export."""
    at, last = 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        last, at = at, at + 4 + length
    return last


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: b"", "is empty"),
        (lambda d: d[:-1], "is truncated inside a frame"),
        (lambda d: d + b"\x00\x00", "is truncated inside a frame length"),
        (lambda d: d[: _end_frame_at(d)], "has no end frame: it is truncated"),
        (
            lambda d: d[:4] + bytes([d[4] ^ 1]) + d[5:],
            "fails its checksum: its content was changed or damaged",
        ),
        (
            lambda d: struct.pack(">I", 64 * 1024 * 1024 + 1) + d,
            f"has a frame of {64 * 1024 * 1024 + 1} bytes, too large",
        ),
        (lambda d: b"\xff\xff\xff\xff" + d, "has a frame of 4294967295 bytes, too large"),
    ],
    ids=["empty", "cut", "cut-in-length", "no-end", "byte-flipped", "frame-too-large", "2-GiB"],
)
def test_a_damaged_file_is_refused_before_any_block_saying_how(
    tmp_path: Path, damage: Any, reason: str
) -> None:
    path = tmp_path / "damaged.export"
    path.write_bytes(damage(_good_file(tmp_path)))
    failure = _refusal_on_open(path)
    assert (failure.height, failure.subject, failure.reason, failure.rule) == (
        None,
        f"export file {path}",
        reason,
        None,
    )


def test_a_frame_of_exactly_the_largest_size_is_read(tmp_path: Path) -> None:
    """64 MiB is allowed (then the file ends inside it here); one byte more is refused."""
    path = tmp_path / "big.export"
    path.write_bytes(struct.pack(">I", 64 * 1024 * 1024) + b"\x00")
    assert _refusal_on_open(path).reason == "is truncated inside a frame"


def test_an_end_frame_counting_other_blocks_is_refused(tmp_path: Path) -> None:
    path = _frames(tmp_path / "x.export", [_header(), _block_frame(1), _block_frame(2)], count=3)
    failure = _refusal_on_open(path)
    assert (failure.height, failure.subject, failure.reason) == (
        None,
        f"export file {path}",
        "declares 3 blocks but holds 2",
    )


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (["end", 1], "end frame: expected 3 fields, got 2"),
        (["end", "1", b"\x00" * 32], "end frame count: expected an integer, got str"),
        (["end", 1, b"\x00" * 31], "end frame checksum: expected 32 bytes, got 31"),
        ([], "has no end frame: it is truncated"),
        ("end", "has no end frame: it is truncated"),
    ],
    ids=["two-fields", "count-text", "short-checksum", "empty-list", "not-a-list"],
)
def test_a_malformed_end_frame_is_refused_naming_the_field(
    tmp_path: Path, end: Any, reason: str
) -> None:
    data = encoding.encode(_header())
    last = encoding.encode(end)
    path = tmp_path / "x.export"
    path.write_bytes(struct.pack(">I", len(data)) + data + struct.pack(">I", len(last)) + last)
    failure = _refusal_on_open(path)
    assert (failure.subject, failure.reason) == (f"export file {path}", reason)


def test_a_file_that_cannot_be_opened_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.export"
    failure = _refusal_on_open(path)
    assert (failure.height, failure.subject, failure.rule) == (None, f"export file {path}", None)
    assert failure.reason.startswith("cannot be opened: ")


def test_an_undecodable_block_frame_fails_rule_1_at_its_height(tmp_path: Path) -> None:
    out, digest = bytearray(), hashlib.sha256()
    for data in (encoding.encode(_header()), b"\xc1"):
        chunk = struct.pack(">I", len(data)) + data
        digest.update(chunk)
        out += chunk
    end = encoding.encode(["end", 1, digest.digest()])
    path = tmp_path / "x.export"
    path.write_bytes(bytes(out) + struct.pack(">I", len(end)) + end)
    failure = _refusal_reading(path)
    assert (failure.height, failure.subject, failure.rule) == (1, "export frame of block 1", 1)
    assert failure.reason.startswith("does not decode: ")


def test_an_undecodable_header_frame_is_refused_naming_the_file_once(tmp_path: Path) -> None:
    digest = hashlib.sha256()
    chunk = struct.pack(">I", 1) + b"\xc1"
    digest.update(chunk)
    end = encoding.encode(["end", 0, digest.digest()])
    path = tmp_path / "x.export"
    path.write_bytes(chunk + struct.pack(">I", len(end)) + end)
    failure = _refusal_on_open(path)
    assert (failure.height, failure.subject, failure.rule) == (None, f"export file {path}", None)
    assert failure.reason.startswith("has an undecodable frame: not valid msgpack")
    assert str(failure).count("export file") == 1


def test_blocks_from_a_later_height_skip_the_earlier_frames(tmp_path: Path) -> None:
    chain = valid_chain()
    path = tmp_path / "chain.export"
    write_export(chain, path)
    source = ExportSource(path)
    try:
        assert [r.height for r in source.blocks(3)] == list(range(3, chain.head_height() + 1))
        assert source.stored_state() is None and source.stored_app_hash(1) is None
    finally:
        source.close()


def test_a_file_cut_short_while_it_is_read_is_refused_naming_it(tmp_path: Path) -> None:
    """The file checked whole when opened, then cut inside block 1's frame before the
    blocks are read: the replay is refused, never short."""
    path = tmp_path / "chain.export"
    write_export(valid_chain(), path)
    data = path.read_bytes()
    (header_length,) = struct.unpack(">I", data[:4])
    source = ExportSource(path)
    try:
        with open(path, "r+b") as file:
            file.truncate(4 + header_length + 7)
        with pytest.raises(VerificationFailure) as caught:
            list(source.blocks())
    finally:
        source.close()
    failure = caught.value
    assert (failure.height, failure.subject, failure.reason) == (
        None,
        f"export file {path}",
        "is truncated inside a frame",
    )
