"""Where a chain to verify comes from: a data directory copy, a node's RPC, an export.

Every source yields the same thing, height by height from 1: the encoded block, the
encoded certificate and the encoded receipts, as stored. Decoding happens in the
replay, so a malformed record is reported at its height like any other failure.
Nothing here is trusted: a source only carries bytes to the replay.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from chain import encoding
from chain.errors import DecodeError, VotechainError
from chain.genesis import Genesis
from chain.store import ChainStore
from verifier.errors import VerificationFailure

BUSY_RETRIES = 30
"""A node answers 503 busy (with Retry-After) while its heavy-read pool is full; wait
and ask again this many times before giving up."""
MAX_RETRY_AFTER_S = 5.0


@dataclass(frozen=True)
class RawBlock:
    height: int
    block: bytes
    certificate: bytes
    receipts: list[bytes]
    block_value: Any = field(default=None, compare=False, repr=False)
    """The decoded value of `block`, when the source already decoded it canonically as
    part of a larger record (an export frame, an RPC reply): the replay then builds the
    block from it instead of decoding the same bytes a second time. None otherwise."""
    receipts_unreadable: str | None = None
    """Why the source could not read the block's receipts (then `receipts` is empty):
    the replay reports it at rule 11, after the rules a block's own damage breaks first.
    A data directory keeps receipts without what the block holds (chain/storelayout.py),
    so a block changed on disk can leave its receipts unreadable."""


class ChainSource(Protocol):
    def genesis(self) -> Genesis: ...

    def head_height(self) -> int:
        """The last height the source will give, or -1 if not known in advance."""
        ...

    def blocks(self, start: int = 1) -> Iterator[RawBlock]: ...

    def stored_state(self) -> dict[bytes, bytes] | None:
        """The source's own state after its head, where it has one, to compare with
        the replay's."""
        ...

    def stored_app_hash(self, height: int) -> bytes | None:
        """The source's own app hash after `height`, where it has one."""
        ...

    def close(self) -> None: ...


class DataDirSource:
    """A node's chain directory (`data/<node>/chain`, or `data/<node>` holding it).

    The directory is copied to a temporary folder and the copy is opened, so the
    original is never written to (LevelDB cannot open read-only) and a running node's
    lock does not get in the way; copy a stopped node's directory for a consistent view.
    """

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if (path / "chain" / "CURRENT").exists():
            path = path / "chain"
        if not (path / "CURRENT").exists():
            raise VerificationFailure(None, str(path), "is not a votechain LevelDB chain directory")
        self._tmp = tempfile.TemporaryDirectory(prefix="votechain-verify-")
        copy = Path(self._tmp.name) / "chain"
        shutil.copytree(path, copy, ignore=shutil.ignore_patterns("LOCK"))
        self._copy, self._path = copy, path
        try:
            self._store = ChainStore(copy, create=False)
            self._genesis = self._store.genesis
        except VotechainError as exc:
            self._tmp.cleanup()
            raise VerificationFailure(
                None, str(path), f"cannot be read: {self._named(exc)}"
            ) from exc

    def _named(self, exc: VotechainError) -> str:
        """The store's words about the private copy, naming the folder the auditor gave."""
        return str(exc).replace(str(self._copy), str(self._path))

    def genesis(self) -> Genesis:
        return self._genesis

    def head_height(self) -> int:
        return self._store.head_height

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for height in range(start, self._store.head_height + 1):
            block = self._store.get_block_bytes(height)
            certificate = self._store.get_certificate_bytes(height)
            if block is None or certificate is None:
                what = "block" if block is None else "certificate"
                raise VerificationFailure(height, f"stored block {height}", f"has no {what}", 1)
            receipts: list[bytes] = []
            unreadable: str | None = None
            try:
                receipts = self._store.get_receipts(height)
            except VotechainError as exc:
                unreadable = self._named(exc)
            yield RawBlock(height, block, certificate, receipts, receipts_unreadable=unreadable)

    def stored_state(self) -> dict[bytes, bytes] | None:
        return dict(self._store.items(b""))

    def stored_app_hash(self, height: int) -> bytes | None:
        try:
            return self._store.app_hash(height)
        except VotechainError:
            return None

    def close(self) -> None:
        self._store.close()
        self._tmp.cleanup()


class RpcSource:
    """A node's RPC over plain HTTP(S), one kept-alive connection:

    GET /v1/status             head height and app hash (a snapshot taken at start)
    GET /v1/genesis            the genesis document (JSON, as genesis.json)
    GET /v1/raw/blocks/{h}     msgpack [block, certificate, [receipt, ...]]
    GET /v1/tx/{tx_id}         a committed transaction with its proofs (receipts)
    """

    def __init__(self, url: str, timeout_s: float = 30.0, ca_file: Path | None = None) -> None:
        """`ca_file`: for https://, the CA to trust (the cluster's own CA when the node
        uses one, PROTOCOL.md 14.2); None trusts the system's CAs."""
        self.url, self.timeout_s = url.rstrip("/"), timeout_s
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file is not None else None
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise VerificationFailure(None, url, "is not an http:// or https:// URL")
        self._parsed = parsed
        self._connection: http.client.HTTPConnection | None = None
        self._status: dict[str, Any] = self.get_json("/v1/status")
        self._genesis: Genesis | None = None

    def genesis(self) -> Genesis:
        if self._genesis is None:
            document = self.get_json("/v1/genesis")
            document.pop("genesis_hash", None)
            try:
                self._genesis = Genesis.from_json(json.dumps(document))
            except VotechainError as exc:
                raise VerificationFailure(None, "genesis from RPC", f"is malformed: {exc}") from exc
        return self._genesis

    def head_height(self) -> int:
        return int(self._status["height"])

    def blocks(self, start: int = 1) -> Iterator[RawBlock]:
        for height in range(start, self.head_height() + 1):
            yield self.raw_block(height)

    def raw_block(self, height: int) -> RawBlock:
        data = self.get_bytes(f"/v1/raw/blocks/{height}")
        try:
            fields = encoding.expect_list(encoding.decode(data), 3, "raw block")
            receipts = [
                encoding.expect_bytes(r, "receipt")
                for r in encoding.expect_array(fields[2], "receipts")
            ]
        except DecodeError as exc:
            raise VerificationFailure(
                height, f"block {height} from the RPC", f"does not decode: {exc}", 1
            ) from exc
        # The reply decoded canonically, so its block and certificate are canonical where
        # they sit in it: slice them out rather than encoding them again.
        spans = encoding.array_spans(data)
        return RawBlock(height, data[slice(*spans[0])], data[slice(*spans[1])], receipts, fields[0])

    def committed_tx(self, tx_id: str) -> dict[str, Any]:
        document: dict[str, Any] = self.get_json(f"/v1/tx/{tx_id}")
        return document

    def stored_state(self) -> dict[bytes, bytes] | None:
        return None

    def stored_app_hash(self, height: int) -> bytes | None:
        if height == self.head_height() and "app_hash" in self._status:
            return bytes.fromhex(self._status["app_hash"])
        return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get_bytes(self, path: str) -> bytes:
        """GET `path`; retried once on a dropped keep-alive connection, and after the
        node's Retry-After while it answers 503 busy or 429 rate_limited."""
        for _ in range(BUSY_RETRIES):
            try:
                return self._get_once(path)
            except _Busy as busy:
                time.sleep(busy.retry_after_s)
        raise VerificationFailure(None, self.url + path, "the node stayed busy; try later")

    def _get_once(self, path: str) -> bytes:
        for attempt in range(2):
            connection = self._connect()
            try:
                connection.request("GET", self._parsed.path.rstrip("/") + path)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 0:
                    continue
                raise VerificationFailure(
                    None, self.url + path, f"cannot be fetched: {exc}"
                ) from exc
            if response.status in (429, 503):  # rate_limited, or busy: wait and ask again
                raise _Busy(_retry_after_s(response.getheader("Retry-After")))
            if response.status != 200:
                raise VerificationFailure(
                    None, self.url + path, f"answered HTTP {response.status}: {_message(data)}"
                )
            return data
        raise AssertionError("unreachable")

    def get_json(self, path: str) -> Any:
        try:
            return json.loads(self.get_bytes(path))
        except ValueError as exc:
            raise VerificationFailure(None, self.url + path, "answered something not JSON") from exc

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            host, port = self._parsed.hostname or "", self._parsed.port
            if self._parsed.scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout_s, context=self._ssl
                )
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=self.timeout_s)
        return self._connection


def _message(data: bytes) -> str:
    try:
        return str(json.loads(data).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return data[:200].decode("utf-8", "replace")


class _Busy(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


def _retry_after_s(header: str | None) -> float:
    """Retry-After in seconds (this node sends an integer), at least 0.1, at most 5."""
    try:
        seconds = float(header) if header is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), MAX_RETRY_AFTER_S)
