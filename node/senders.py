"""How one-time codes and notices reach phones: the pluggable CodeSender.

`HttpGatewaySender` posts {"to", "text"} as JSON to an SMS gateway with a bearer token;
`DevOutboxSender` stands for the phone network on a developer's machine, writing each
message to a private file that the CLI and tests read. The attester refuses to start
without one of them (fail closed): a service that cannot reach phones must not pretend to.

A sender raises SendFailed when the message was not taken; the attester then counts no
code as sent and tells the client to retry.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Protocol

import aiohttp

from chain.errors import VotechainError
from node.config import ClusterConfig, ConfigError

log = logging.getLogger("votechain.attester")

OUTBOX_KEEP_S = 24 * 3600
"""Development outbox files older than this are removed (notices are never `discard`ed)."""
GATEWAY_RETRY_DELAY_S = 0.2


class SendFailed(VotechainError):
    """The message did not reach the phone network; nothing was sent."""


class CodeSender(Protocol):
    async def send(self, e164: str, text: str) -> str:
        """Hand `text` to the phone network for `e164`; return a reference for `discard`.
        Raises SendFailed when the message was not taken."""
        ...

    def discard(self, e164: str, reference: str) -> None:
        """The message is no longer needed (its code was used or expired)."""
        ...

    async def close(self) -> None: ...


class DevOutboxSender:
    """Writes `<outbox>/<number>.<reference>.txt`, mode 0600 in a 0700 folder; `discard`
    deletes the file, so a used or expired code leaves nothing behind."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def send(self, e164: str, text: str) -> str:
        self.outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._remove_old_files()
        reference = secrets.token_hex(8)
        path = self._path(e164, reference)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")
        temporary.replace(path)
        return reference

    def discard(self, e164: str, reference: str) -> None:
        self._path(e164, reference).unlink(missing_ok=True)

    async def close(self) -> None:
        return None

    def _path(self, e164: str, reference: str) -> Path:
        return self.outbox / f"{e164}.{reference}.txt"

    def _remove_old_files(self) -> None:
        cutoff = time.time() - OUTBOX_KEEP_S
        for path in self.outbox.glob("*.txt"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue


def outbox_messages(outbox: Path, e164: str) -> list[str]:
    """The development outbox's messages to a number, oldest first (CLI and tests)."""
    paths = []
    for path in outbox.glob(f"{e164}.*.txt"):
        try:
            paths.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue
    messages = []
    for _, path in sorted(paths):
        try:
            messages.append(path.read_text().strip())
        except OSError:
            continue
    return messages


def read_outbox_code(outbox: Path, e164: str, digits: int = 8) -> str | None:
    """The newest code in the development outbox for a number (CLI and tests)."""
    for text in reversed(outbox_messages(outbox, e164)):
        codes = [w for w in text.split() if w.isdigit() and len(w) == digits]
        if codes:
            return codes[-1]
    return None


class HttpGatewaySender:
    """POST {"to": e164, "text": text} as JSON to `url` with `Authorization: Bearer`.

    Any 2xx is success. A connection error, a timeout or a 5xx is retried up to `attempts`
    times in all; a 4xx is not (the gateway refused this message, retrying will not help).
    """

    def __init__(self, url: str, token: str, timeout_s: float, attempts: int) -> None:
        self.url, self._token, self.timeout_s, self.attempts = url, token, timeout_s, attempts
        self._session: aiohttp.ClientSession | None = None

    async def send(self, e164: str, text: str) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            )
        last = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(GATEWAY_RETRY_DELAY_S * attempt)
            try:
                async with self._session.post(
                    self.url,
                    json={"to": e164, "text": text},
                    headers={"Authorization": f"Bearer {self._token}"},
                ) as response:
                    if 200 <= response.status < 300:
                        return ""
                    last = f"HTTP {response.status}"
                    if response.status < 500:
                        break
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
        log.warning("SMS gateway did not take a message after %d attempts: %s", attempt + 1, last)
        raise SendFailed(f"the SMS gateway did not take the message ({last})")

    def discard(self, e164: str, reference: str) -> None:
        return None  # an SMS that was sent cannot be taken back

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def make_sender(config: ClusterConfig) -> CodeSender:
    """The sender cluster.toml asks for; ConfigError (the attester does not start) if none."""
    settings = config.attester
    if settings.sender == "dev_outbox":
        log.warning("development outbox %s: codes are not sent to phones", config.attester_outbox)
        return DevOutboxSender(config.attester_outbox)
    if settings.sender == "http":
        if not settings.gateway_url.startswith(("https://", "http://")):
            raise ConfigError('attester.sender = "http" needs attester.gateway_url (https://...)')
        if not settings.gateway_token_file:
            raise ConfigError('attester.sender = "http" needs attester.gateway_token_file')
        token_path = config.resolve_path(settings.gateway_token_file)
        try:
            token = token_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the SMS gateway token at {token_path}: {exc}") from exc
        if not token:
            raise ConfigError(f"the SMS gateway token file {token_path} is empty")
        return HttpGatewaySender(
            settings.gateway_url, token, settings.gateway_timeout_s, settings.gateway_attempts
        )
    raise ConfigError(
        "the attester has no code sender, so it cannot verify phones and will not start: set "
        'attester.sender = "http" with gateway_url and gateway_token_file (production), or '
        'attester.sender = "dev_outbox" (development only)'
    )
