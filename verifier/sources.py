"""Where a chain to verify comes from: a data directory copy, a node's RPC, an export.

Every source yields the same thing, height by height from 1: the encoded block, the
encoded certificate and the encoded receipts, as stored. Decoding happens in the
replay, so a malformed record is reported at its height like any other failure.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chain import encoding
from chain.errors import DecodeError, StoreError
from chain.genesis import Genesis
from chain.store import ChainStore
from verifier.errors import VerificationFailure


@dataclass(frozen=True)
class RawBlock:
    height: int
    block: bytes
    certificate: bytes
    receipts: list[bytes]


class ChainSource(Protocol):
    def genesis(self) -> Genesis: ...

    def head_height(self) -> int: ...

    def blocks(self, start: int = 1) -> Iterator[RawBlock]: ...

    def stored_state(self) -> dict[bytes, bytes] | None:
        """The source's own final state, where it has one, to compare with the replay."""
        ...

    def stored_app_hash(self, height: int) -> bytes | None: ...

    def close(self) -> None: ...


class DataDirSource:
    """A node's chain directory (…/<node>/chain or the data dir of one node).

    The directory is copied to a temporary folder first and the copy is opened, so the
    original is never written to (LevelDB cannot open read-only) and a running node's
    lock does not get in the way.
    """

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if (path / "chain" / "CURRENT").exists():
            path = path / "chain"
        if not (path / "CURRENT").exists():
            raise VerificationFailure(None, str(path), "not a votechain LevelDB chain directory")
        self._tmp = tempfile.TemporaryDirectory(prefix="votechain-verify-")
        copy = Path(self._tmp.name) / "chain"
        shutil.copytree(path, copy, ignore=shutil.ignore_patterns("LOCK"))
        try:
            self._store = ChainStore(copy, create=False)
        except StoreError as exc:
            raise VerificationFailure(None, str(path), str(exc)) from exc

    def genesis(self) -> Genesis:
        return self._store.genesis

    def head_height(self) -> int:
        return self._store.head_height

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for height in range(start, self._store.head_height + 1):
            try:
                block = self._store.get_block_bytes(height)
                certificate = self._store.get_certificate_bytes(height)
                receipts = self._store.get_receipts(height)
            except (StoreError, DecodeError) as exc:
                raise VerificationFailure(height, "stored block", str(exc)) from exc
            if block is None or certificate is None:
                raise VerificationFailure(height, "stored block", "missing from the store")
            yield RawBlock(height, block, certificate, receipts)

    def stored_state(self) -> dict[bytes, bytes] | None:
        return dict(self._store.items(b""))

    def stored_app_hash(self, height: int) -> bytes | None:
        try:
            return self._store.app_hash(height)
        except StoreError:
            return None

    def close(self) -> None:
        self._store.close()
        self._tmp.cleanup()


class RpcSource:
    """A node's RPC: GET /v1/genesis, /v1/status and /v1/raw/blocks/{h} over plain HTTP."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.url, self.timeout_s = url.rstrip("/"), timeout_s
        self._status: dict[str, Any] = self._json("/v1/status")

    def genesis(self) -> Genesis:
        document = self._json("/v1/genesis")
        document.pop("genesis_hash", None)
        return Genesis.from_json(json.dumps(document))

    def head_height(self) -> int:
        return int(self._status["height"])

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for height in range(start, self.head_height() + 1):
            raw = self._bytes(f"/v1/raw/blocks/{height}")
            try:
                fields = encoding.expect_list(encoding.decode(raw), 3, "raw block")
                receipts = [
                    encoding.expect_bytes(r, "receipt")
                    for r in encoding.expect_array(fields[2], "receipts")
                ]
            except DecodeError as exc:
                raise VerificationFailure(height, "block from RPC", str(exc)) from exc
            yield RawBlock(height, encoding.encode(fields[0]), encoding.encode(fields[1]), receipts)

    def stored_state(self) -> dict[bytes, bytes] | None:
        return None

    def stored_app_hash(self, height: int) -> bytes | None:
        if height == self.head_height():
            return bytes.fromhex(self._status["app_hash"])
        return None

    def close(self) -> None:
        pass

    def _bytes(self, path: str) -> bytes:
        try:
            with urllib.request.urlopen(self.url + path, timeout=self.timeout_s) as response:
                data: bytes = response.read()
                return data
        except (urllib.error.URLError, OSError) as exc:
            raise VerificationFailure(None, self.url + path, f"cannot fetch: {exc}") from exc

    def _json(self, path: str) -> Any:
        try:
            return json.loads(self._bytes(path))
        except ValueError as exc:
            raise VerificationFailure(None, self.url + path, "answer is not JSON") from exc
