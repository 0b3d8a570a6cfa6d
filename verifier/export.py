"""Export files: a whole chain in one stream, for archiving and publishing.

    file   = frame*            frame = length (4 bytes, big-endian) || canonical msgpack
    first  = ["votechain-export", 1, genesis]
    then   = ["block", height, block, certificate, [receipt bytes, ...]]   for h = 1..head
    last   = ["end", block_count, sha256 of every byte before this frame]

The checksum lets an archive be checked for truncation or corruption before any replay;
the replay then checks every block on its own merits, as from any other source.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from chain import encoding
from chain.errors import DecodeError
from chain.genesis import Genesis
from verifier.errors import VerificationFailure
from verifier.sources import ChainSource, RawBlock

MAGIC = "votechain-export"
EXPORT_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024 * 1024


def write_export(source: ChainSource, path: Path) -> int:
    """Stream `source` into an export file; returns the number of blocks written."""
    digest = hashlib.sha256()
    count = 0
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as out:

        def frame(value: Any) -> None:
            data = encoding.encode(value)
            chunk = struct.pack(">I", len(data)) + data
            digest.update(chunk)
            out.write(chunk)

        frame([MAGIC, EXPORT_VERSION, source.genesis().to_value()])
        for raw in source.blocks():
            frame(
                [
                    "block",
                    raw.height,
                    encoding.decode(raw.block),
                    encoding.decode(raw.certificate),
                    raw.receipts,
                ]
            )
            count += 1
        end = encoding.encode(["end", count, digest.digest()])
        out.write(struct.pack(">I", len(end)) + end)
    temporary.replace(path)
    return count


class ExportSource:
    """Reads an export file as a ChainSource; the checksum is checked at the end."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._digest = hashlib.sha256()
        first = self._frame()
        if first is None:
            raise VerificationFailure(None, str(path), "empty file")
        try:
            fields = encoding.expect_list(first, 3, "export header")
            if fields[0] != MAGIC or fields[1] != EXPORT_VERSION:
                raise DecodeError("not a votechain export (version 1)")
            self._genesis = Genesis.from_value(fields[2])
        except DecodeError as exc:
            raise VerificationFailure(None, str(path), str(exc)) from exc
        self._head: int | None = None

    def genesis(self) -> Genesis:
        return self._genesis

    def head_height(self) -> int:
        """Unknown until read through; the replay does not need it in advance."""
        return -1 if self._head is None else self._head

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        expected = 1
        while True:
            before = self._digest.digest()
            value = self._frame(count_in_digest=False)
            if value is None:
                raise VerificationFailure(
                    expected, str(self.path), "file ends without an end frame"
                )
            kind = value[0] if isinstance(value, list) and value else None
            if kind == "end":
                self._check_end(value, expected - 1, before)
                return
            self._digest.update(self._last_chunk)
            try:
                fields = encoding.expect_list(value, 5, "export block")
                height = encoding.expect_int(fields[1], "export block height")
                receipts = [
                    encoding.expect_bytes(r, "receipt")
                    for r in encoding.expect_array(fields[4], "receipts")
                ]
                if fields[0] != "block" or height != expected:
                    raise DecodeError(f"expected block frame {expected}")
            except DecodeError as exc:
                raise VerificationFailure(expected, "export frame", str(exc)) from exc
            if height >= start:
                yield RawBlock(
                    height, encoding.encode(fields[2]), encoding.encode(fields[3]), receipts
                )
            expected += 1

    def stored_state(self) -> dict[bytes, bytes] | None:
        return None

    def stored_app_hash(self, height: int) -> bytes | None:
        return None

    def close(self) -> None:
        self._file.close()

    def _check_end(self, value: Any, count: int, digest: bytes) -> None:
        try:
            fields = encoding.expect_list(value, 3, "export end")
            declared = encoding.expect_int(fields[1], "export end count")
            checksum = encoding.expect_bytes(fields[2], "export end checksum", 32)
        except DecodeError as exc:
            raise VerificationFailure(None, "export end frame", str(exc)) from exc
        if declared != count:
            raise VerificationFailure(
                None, "export end frame", f"declares {declared} blocks, file has {count}"
            )
        if checksum != digest:
            raise VerificationFailure(None, "export checksum", "file content does not match")
        self._head = count

    def _frame(self, count_in_digest: bool = True) -> Any:
        prefix = self._file.read(4)
        if not prefix:
            return None
        if len(prefix) < 4:
            raise VerificationFailure(None, str(self.path), "truncated frame length")
        (length,) = struct.unpack(">I", prefix)
        if length > MAX_FRAME_BYTES:
            raise VerificationFailure(None, str(self.path), f"frame of {length} bytes is too large")
        data = self._file.read(length)
        if len(data) < length:
            raise VerificationFailure(None, str(self.path), "truncated frame")
        self._last_chunk = prefix + data
        if count_in_digest:
            self._digest.update(self._last_chunk)
        try:
            return encoding.decode(data)
        except DecodeError as exc:
            raise VerificationFailure(None, str(self.path), f"undecodable frame: {exc}") from exc
