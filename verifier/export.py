"""Export files: a whole chain in one stream, for archiving and publishing.

    file   = frame*        frame = length (4 bytes, unsigned big-endian) || value
    value  = the canonical msgpack encoding (docs/PROTOCOL.md section 1) of:
    first  = ["votechain-export", 1, genesis]
    then   = ["block", h, block, certificate, [receipt bytes, ...]]   for h = 1..head
    last   = ["end", head, SHA-256 of every byte of the file before this frame]

`genesis`, `block` and `certificate` are the structures of PROTOCOL.md sections 8, 5
and 7 embedded as arrays (not as bytes); receipts are the encoded receipts of section
11.2 as bytes, in transaction order. A frame is at most MAX_FRAME_BYTES long.

The checksum finds truncation and corruption before any replay (ExportSource checks it
when it opens a file); it proves nothing about who made the file, since anyone can
compute it. The replay then checks every block on its own merits, as from any source.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from chain import encoding
from chain.errors import DecodeError, VotechainError
from chain.genesis import Genesis
from verifier.errors import VerificationFailure
from verifier.sources import ChainSource, RawBlock

MAGIC = "votechain-export"
EXPORT_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024 * 1024


def write_export(source: ChainSource, path: Path) -> int:
    """Stream `source` into an export file at `path`; returns the number of blocks.

    Written to `path.partial` and renamed when complete, so `path` is never half a file.
    The blocks are copied as the source gives them, not checked: verify the file after.
    """
    path = Path(path)
    digest = hashlib.sha256()
    count = 0
    temporary = path.with_name(path.name + ".partial")
    try:
        with open(temporary, "wb") as out:

            def frame(value: Any) -> None:
                data = encoding.encode(value)
                chunk = struct.pack(">I", len(data)) + data
                digest.update(chunk)
                out.write(chunk)

            frame([MAGIC, EXPORT_VERSION, source.genesis().to_value()])
            for raw in source.blocks():
                if raw.receipts_unreadable is not None:
                    # Copying them as `[]` would make a file that only says so at rule 11
                    # of a later verify: stop here, naming the block, as the source would.
                    raise VerificationFailure(
                        raw.height,
                        f"stored receipts of block {raw.height}",
                        f"do not decode: {raw.receipts_unreadable}",
                        11,
                    )
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
    finally:
        temporary.unlink(missing_ok=True)
    return count


class ExportSource:
    """Reads an export file as a ChainSource. Opening it reads the file through once
    to check the end frame's count and checksum; then blocks() streams it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._head = _check_file(self.path)
        self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        try:
            fields = encoding.expect_list(self._next_value(), 3, "export header")
            if fields[0] != MAGIC or fields[1] != EXPORT_VERSION:
                raise DecodeError(f"is not a {MAGIC} file of version {EXPORT_VERSION}")
            self._genesis = Genesis.from_value(fields[2])
        except VerificationFailure:
            self._file.close()  # already names the file (an undecodable header frame)
            raise
        except VotechainError as exc:
            self._file.close()
            raise VerificationFailure(None, f"export file {self.path}", str(exc)) from exc

    def genesis(self) -> Genesis:
        return self._genesis

    def head_height(self) -> int:
        return self._head

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for expected in range(1, self._head + 1):
            data, value = self._next_frame(expected)
            try:
                fields = encoding.expect_list(value, 5, "block frame")
                if fields[0] != "block":
                    raise DecodeError(f"frame {expected} is {fields[0]!r}, not a block")
                height = encoding.expect_int(fields[1], "block frame height")
                if height != expected:
                    raise DecodeError(f"holds height {height} where {expected} belongs")
                receipts = [
                    encoding.expect_bytes(r, "receipt")
                    for r in encoding.expect_array(fields[4], "receipts")
                ]
                # The frame decoded canonically, so the block and the certificate are
                # canonical where they sit in it: slice them out, do not encode again.
                spans = encoding.array_spans(data)
                block, certificate = data[slice(*spans[2])], data[slice(*spans[3])]
            except DecodeError as exc:
                raise VerificationFailure(
                    expected, f"export frame of block {expected}", str(exc), 1
                ) from exc
            if height >= start:
                yield RawBlock(height, block, certificate, receipts, fields[2])

    def stored_state(self) -> dict[bytes, bytes] | None:
        return None

    def stored_app_hash(self, height: int) -> bytes | None:
        return None

    def close(self) -> None:
        self._file.close()

    def _next_value(self, height: int | None = None) -> Any:
        return self._next_frame(height)[1]

    def _next_frame(self, height: int | None = None) -> tuple[bytes, Any]:
        """The next frame's bytes and value. A block frame (`height` given) that does not
        decode canonically fails rule 1 at that height, as the same bytes from a node's
        /v1/raw/blocks/{h} do (PROTOCOL.md 14.2)."""
        data = _read_frame(self._file, self.path)
        if data is None:
            raise VerificationFailure(None, f"export file {self.path}", "ends early")
        try:
            return data, encoding.decode(data)
        except DecodeError as exc:
            if height is not None:
                raise VerificationFailure(
                    height, f"export frame of block {height}", f"does not decode: {exc}", 1
                ) from exc
            raise VerificationFailure(
                None, f"export file {self.path}", f"has an undecodable frame: {exc}"
            ) from exc


def _check_file(path: Path) -> int:
    """Check the end frame's count and checksum without decoding any block; returns
    the number of blocks the file holds."""
    subject = f"export file {path}"
    digest = hashlib.sha256()
    frames = 0
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise VerificationFailure(None, subject, f"cannot be opened: {exc}") from exc
    with handle:
        last: bytes | None = None
        while True:
            data = _read_frame(handle, path)
            if data is None:
                break
            if last is not None:
                digest.update(struct.pack(">I", len(last)) + last)
                frames += 1
            last = data
    if last is None:
        raise VerificationFailure(None, subject, "is empty")
    try:
        value = encoding.decode(last)
        if not isinstance(value, list) or not value or value[0] != "end":
            raise DecodeError("has no end frame: it is truncated")
        fields = encoding.expect_list(value, 3, "end frame")
        declared = encoding.expect_int(fields[1], "end frame count")
        checksum = encoding.expect_bytes(fields[2], "end frame checksum", 32)
    except DecodeError as exc:
        raise VerificationFailure(None, subject, str(exc)) from exc
    if declared != frames - 1:
        raise VerificationFailure(
            None, subject, f"declares {declared} blocks but holds {frames - 1}"
        )
    if checksum != digest.digest():
        raise VerificationFailure(
            None, subject, "fails its checksum: its content was changed or damaged"
        )
    return declared


def _read_frame(handle: BinaryIO, path: Path) -> bytes | None:
    prefix = handle.read(4)
    if not prefix:
        return None
    subject = f"export file {path}"
    if len(prefix) < 4:
        raise VerificationFailure(None, subject, "is truncated inside a frame length")
    (length,) = struct.unpack(">I", prefix)
    if length > MAX_FRAME_BYTES:
        raise VerificationFailure(None, subject, f"has a frame of {length} bytes, too large")
    data = handle.read(length)
    if len(data) < length:
        raise VerificationFailure(None, subject, "is truncated inside a frame")
    return data
