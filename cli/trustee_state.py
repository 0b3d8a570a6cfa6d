"""A trustee's secrets file: every secret a trustee draws for a poll, kept on its own disk.

A trustee draws its transport secret, its polynomial's coefficients and the nonces of
its proofs before it posts each step. They are written here, and the file is fsynced,
BEFORE the transaction leaves, and a rerun reuses them: a crash between the write and
the send, or a send whose answer was lost, makes the same message again, never a second
dealing with other coefficients (which would hand a recipient two points of two
polynomials) nor a proof with a reused nonce over another statement (which would publish
the secret behind it).

The file is JSON, mode 0600, replaced atomically (a temporary file, fsync, rename, fsync
of the folder), so a crash leaves the old version or the new one, never half of one.
Scalars are 64 hex characters (32 bytes, little-endian, as ballotcrypto encodes them).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ballotcrypto.group import L, scalar_from_bytes, scalar_to_bytes
from chain.errors import DecodeError, KeyFileError

FORMAT = "votechain-trustee-secrets"
VERSION = 1
SUFFIX = ".secrets.json"

Draw = Callable[[], int]
"""Where scalars come from: `draw_scalar` in use, a counter in tests."""


def draw_scalar() -> int:
    """A uniform scalar in [1, L): `secrets.randbelow` rejects out-of-range draws instead
    of reducing them, so there is no modulo bias."""
    return 1 + secrets.randbelow(L - 1)


def secrets_path_for(key_path: Path) -> Path:
    """trustee1.pem -> trustee1.secrets.json, beside the key."""
    return key_path.with_name(key_path.stem + SUFFIX)


@dataclass(frozen=True)
class Decryption:
    """The nonces of a partial decryption, tied to the tally they were drawn for: a tally
    that differs (it cannot after close, but a file outlives assumptions) gets fresh
    nonces, never the same ones over other ciphertexts."""

    tally_hash: str
    nonces: tuple[int, ...]


@dataclass(frozen=True)
class PollSecrets:
    """What one trustee drew for one poll. Fields stay None until the step needs them."""

    trustee: int
    """The trustee's 1-based index in the poll's spec, fixed when the first secret is drawn."""
    transport_secret: int
    transport_nonce: int
    coefficients: tuple[int, ...] | None = None
    coefficient_nonce: int | None = None
    ephemerals: tuple[int, ...] | None = None
    complaint_nonces: dict[int, int] = field(default_factory=dict)
    """Dealer index -> the nonce of the reveal proof of a complaint about that dealer."""
    decryption: Decryption | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "trustee": self.trustee,
            "transport_secret": _hex(self.transport_secret),
            "transport_nonce": _hex(self.transport_nonce),
        }
        if self.coefficients is not None:
            document["coefficients"] = [_hex(a) for a in self.coefficients]
        if self.coefficient_nonce is not None:
            document["coefficient_nonce"] = _hex(self.coefficient_nonce)
        if self.ephemerals is not None:
            document["ephemerals"] = [_hex(e) for e in self.ephemerals]
        if self.complaint_nonces:
            document["complaint_nonces"] = {
                str(d): _hex(w) for d, w in sorted(self.complaint_nonces.items())
            }
        if self.decryption is not None:
            document["decryption"] = {
                "tally_hash": self.decryption.tally_hash,
                "nonces": [_hex(w) for w in self.decryption.nonces],
            }
        return document

    @classmethod
    def from_json(cls, document: Any, where: str) -> PollSecrets:
        if not isinstance(document, dict):
            raise KeyFileError(f"{where}: expected an object")
        trustee = document.get("trustee")
        if not isinstance(trustee, int) or isinstance(trustee, bool) or trustee < 1:
            raise KeyFileError(f"{where}.trustee: expected a trustee number")
        coefficients = document.get("coefficients")
        ephemerals = document.get("ephemerals")
        nonce = document.get("coefficient_nonce")
        complaints = document.get("complaint_nonces", {})
        if not isinstance(complaints, dict):
            raise KeyFileError(f"{where}.complaint_nonces: expected an object")
        decryption = document.get("decryption")
        return cls(
            trustee=trustee,
            transport_secret=_scalar(document.get("transport_secret"), f"{where}.transport_secret"),
            transport_nonce=_scalar(document.get("transport_nonce"), f"{where}.transport_nonce"),
            coefficients=None
            if coefficients is None
            else _scalars(coefficients, f"{where}.coefficients"),
            coefficient_nonce=None
            if nonce is None
            else _scalar(nonce, f"{where}.coefficient_nonce"),
            ephemerals=None if ephemerals is None else _scalars(ephemerals, f"{where}.ephemerals"),
            complaint_nonces={
                _dealer(d, f"{where}.complaint_nonces"): _scalar(w, f"{where}.complaint_nonces.{d}")
                for d, w in complaints.items()
            },
            decryption=None
            if decryption is None
            else _decryption(decryption, f"{where}.decryption"),
        )


class TrusteeSecrets:
    """The secrets file of one trustee key: its polls' secrets, read and written whole."""

    def __init__(self, path: Path, public_key: str, polls: dict[str, PollSecrets]) -> None:
        self.path = path
        self.public_key = public_key
        self._polls = polls

    @classmethod
    def create(cls, path: Path, public_key: str) -> TrusteeSecrets:
        """A new, empty secrets file; refuses to replace one (it may hold a poll's only
        copy of a trustee's transport secret)."""
        state = cls(path, public_key, {})
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyFileError(
                f"{path} already exists; refusing to overwrite a trustee's secrets"
            ) from exc
        os.close(fd)
        state._write()
        return state

    @classmethod
    def load(cls, path: Path, public_key: str) -> TrusteeSecrets:
        """The secrets file of the trustee whose public key is `public_key`."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise KeyFileError(
                f"no trustee secrets file {path}: `votechain trustee init` writes it beside "
                "the trustee's key (or give --secrets FILE)"
            ) from exc
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"cannot read trustee secrets file {path}: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeyFileError(f"{path} is not a trustee secrets file")
        if document.get("version") != VERSION:
            raise KeyFileError(f"{path}: version {document.get('version')!r} is not {VERSION}")
        if document.get("public_key") != public_key:
            raise KeyFileError(
                f"{path} belongs to trustee key {str(document.get('public_key'))[:16]}..., not "
                f"to this key {public_key[:16]}...: give the secrets file of this key"
            )
        polls = document.get("polls")
        if not isinstance(polls, dict):
            raise KeyFileError(f"{path}: polls: expected an object")
        return cls(
            path,
            public_key,
            {
                str(poll_id): PollSecrets.from_json(value, f"{path}: polls.{poll_id[:16]}")
                for poll_id, value in polls.items()
            },
        )

    def poll(self, poll_id: str) -> PollSecrets | None:
        return self._polls.get(poll_id)

    def put(self, poll_id: str, secrets_: PollSecrets) -> PollSecrets:
        """Record `secrets_` for the poll and make it durable before returning."""
        self._polls[poll_id] = secrets_
        self._write()
        return secrets_

    # Each `ensure_*` returns what is on file, drawing and saving only what is missing.

    def ensure_transport(self, poll_id: str, trustee: int, draw: Draw) -> PollSecrets:
        known = self._polls.get(poll_id)
        if known is not None:
            if known.trustee != trustee:
                raise KeyFileError(
                    f"{self.path}: this key was trustee {known.trustee} of poll "
                    f"{poll_id[:16]} when its secrets were drawn, and the poll now says "
                    f"{trustee}"
                )
            return known
        return self.put(poll_id, PollSecrets(trustee, draw(), draw()))

    def ensure_dealing(
        self, poll_id: str, threshold: int, trustees: int, draw: Draw
    ) -> PollSecrets:
        known = self._require(poll_id)
        if known.coefficients is not None:
            if len(known.coefficients) != threshold or len(known.ephemerals or ()) != trustees:
                raise KeyFileError(
                    f"{self.path}: the coefficients kept for poll {poll_id[:16]} are for "
                    "another threshold or number of trustees than the poll's"
                )
            return known
        return self.put(
            poll_id,
            replace(
                known,
                coefficients=tuple(draw() for _ in range(threshold)),
                coefficient_nonce=draw(),
                ephemerals=tuple(draw() for _ in range(trustees)),
            ),
        )

    def ensure_complaint_nonces(self, poll_id: str, dealers: list[int], draw: Draw) -> PollSecrets:
        known = self._require(poll_id)
        missing = [d for d in dealers if d not in known.complaint_nonces]
        if not missing:
            return known
        nonces = {**known.complaint_nonces, **{d: draw() for d in missing}}
        return self.put(poll_id, replace(known, complaint_nonces=nonces))

    def ensure_decryption(
        self, poll_id: str, tally_hash: str, count: int, draw: Draw
    ) -> PollSecrets:
        known = self._require(poll_id)
        kept = known.decryption
        if kept is not None and kept.tally_hash == tally_hash and len(kept.nonces) == count:
            return known
        fresh = Decryption(tally_hash, tuple(draw() for _ in range(count)))
        return self.put(poll_id, replace(known, decryption=fresh))

    def _require(self, poll_id: str) -> PollSecrets:
        known = self._polls.get(poll_id)
        if known is None:
            raise KeyFileError(
                f"{self.path} holds no secrets for poll {poll_id[:16]}: this trustee never "
                "posted its transport key for it from this file"
            )
        return known

    def _write(self) -> None:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "public_key": self.public_key,
            "polls": {poll_id: s.to_json() for poll_id, s in sorted(self._polls.items())},
        }
        data = (json.dumps(document, indent=2) + "\n").encode()
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a power cut
        finally:
            os.close(folder)


def _hex(value: int) -> str:
    return scalar_to_bytes(value).hex()


def _scalar(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise KeyFileError(f"{where}: expected 64 hex characters")
    try:
        return scalar_from_bytes(bytes.fromhex(value), where)
    except (ValueError, DecodeError) as exc:
        raise KeyFileError(f"{where}: {exc}") from exc


def _scalars(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise KeyFileError(f"{where}: expected a list of scalars")
    return tuple(_scalar(v, f"{where}[{i}]") for i, v in enumerate(value))


def _dealer(value: str, where: str) -> int:
    if not value.isdigit():
        raise KeyFileError(f"{where}: {value!r} is not a trustee number")
    return int(value)


def _decryption(value: Any, where: str) -> Decryption:
    if not isinstance(value, dict) or not isinstance(value.get("tally_hash"), str):
        raise KeyFileError(f"{where}: expected {{tally_hash, nonces}}")
    return Decryption(value["tally_hash"], _scalars(value.get("nonces"), f"{where}.nonces"))
