"""A small synchronous JSON client for the node RPC (stdlib only; the CLI needs no loop)."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chain.errors import VotechainError
from node.errors import RETRYABLE

UNREACHABLE = "unreachable"
"""The client's own code for a node it could not reach (not an RPC answer)."""
RETRY_CODES = frozenset({UNREACHABLE, *(code.value for code in RETRYABLE)})
"""Answers after which the same request is sent to the next node (node/errors.py)."""
RETRY_ROUNDS = 2
"""How many times a retried request goes round all nodes before the last error stands."""
RETRY_PAUSE_S_MAX = 5.0


class RpcFailure(VotechainError):
    """The node answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        code: str = UNREACHABLE,
        reason: str | None = None,
        retry_after_s: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.retry_after_s = code, reason, retry_after_s


class RpcClient:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 30.0,
        fallbacks: Sequence[str] = (),
        ca_file: Path | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.ca_file = ca_file
        """For https:// nodes: the CA to trust (the cluster's, [tls] ca_file); None trusts
        the system's CAs."""
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file is not None else None
        self.fallbacks = [url.rstrip("/") for url in fallbacks if url.rstrip("/") != self.base_url]
        """Other nodes of the cluster, tried in order by `post_retrying`."""

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post(self, path: str, document: dict[str, Any]) -> Any:
        return self._request("POST", path, json.dumps(document).encode())

    def post_retrying(self, path: str, document: dict[str, Any]) -> Any:
        """POST to this node; on a retryable answer (behind, cannot_commit, stopping, busy,
        unreachable) to the next of `fallbacks`, pausing for Retry-After after each round.
        Only for idempotent requests (a transaction is: its id is its hash)."""
        return self._retrying("POST", path, json.dumps(document).encode())

    def get_retrying(self, path: str) -> Any:
        """GET from this node, or the next of `fallbacks` that can answer (as post_retrying)."""
        return self._retrying("GET", path, None)

    def _retrying(self, method: str, path: str, body: bytes | None) -> Any:
        urls = [self.base_url, *self.fallbacks]
        last: RpcFailure | None = None
        for attempt in range(RETRY_ROUNDS * len(urls)):
            try:
                client = RpcClient(urls[attempt % len(urls)], self.timeout_s, ca_file=self.ca_file)
                return client._request(method, path, body)
            except RpcFailure as exc:
                if exc.code not in RETRY_CODES and not exc.code.startswith("http_"):
                    raise
                last = exc
            if attempt % len(urls) == len(urls) - 1:
                time.sleep(min(max(last.retry_after_s, 0.5), RETRY_PAUSE_S_MAX))
        assert last is not None
        raise last

    def put_bytes(self, path: str, data: bytes) -> Any:
        """PUT raw bytes (an image upload, node/images.py); the JSON answer."""
        return self._request("PUT", path, data, "application/octet-stream")

    def get_bytes(self, path: str) -> bytes:
        request = urllib.request.Request(self.base_url + path, method="GET")
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_s, context=self._ssl
            ) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise self._failure(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RpcFailure(f"cannot reach {self.base_url}: {exc}") from exc

    def _request(
        self, method: str, path: str, body: bytes | None, content_type: str = "application/json"
    ) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={"Content-Type": content_type} if body is not None else {},
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_s, context=self._ssl
            ) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise self._failure(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RpcFailure(f"cannot reach {self.base_url}: {exc}") from exc

    def _failure(self, exc: urllib.error.HTTPError) -> RpcFailure:
        try:
            document = json.loads(exc.read())
            return RpcFailure(
                document.get("message", str(exc)),
                document.get("error", f"http_{exc.code}"),
                document.get("reason"),
                _retry_after_s(exc.headers.get("Retry-After")),
            )
        except (ValueError, OSError):
            return RpcFailure(f"{self.base_url} answered HTTP {exc.code}", f"http_{exc.code}")


def _retry_after_s(header: str | None) -> float:
    try:
        return max(0.0, float(header)) if header else 0.0
    except ValueError:
        return 0.0
