"""A small synchronous JSON client for the node RPC (stdlib only; the CLI needs no loop)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from chain.errors import VotechainError


class RpcFailure(VotechainError):
    """The node answered with an error, or could not be reached."""

    def __init__(self, message: str, code: str = "unreachable", reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


class RpcClient:
    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post(self, path: str, document: dict[str, Any]) -> Any:
        return self._request("POST", path, json.dumps(document).encode())

    def get_bytes(self, path: str) -> bytes:
        request = urllib.request.Request(self.base_url + path, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise self._failure(exc) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RpcFailure(f"cannot reach {self.base_url}: {exc}") from exc

    def _request(self, method: str, path: str, body: bytes | None) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={"Content-Type": "application/json"} if body is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
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
            )
        except (ValueError, OSError):
            return RpcFailure(f"{self.base_url} answered HTTP {exc.code}", f"http_{exc.code}")
