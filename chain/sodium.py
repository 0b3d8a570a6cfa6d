"""The one import of the libsodium binding (pysodium, over the system's libsodium).

Two users: chain.keys checks Ed25519 signatures with it first (twice OpenSSL's speed,
issue 13), and ballotcrypto.group does its group arithmetic with it (docs/adr/009).
pysodium loads libsodium with ctypes at import; without it, or with a libsodium older
than 1.0.18 (the first with ristretto255), this says what to install instead of an
AttributeError deep inside a proof.
"""

from __future__ import annotations

from typing import Any

_INSTALL = "votechain needs libsodium >= 1.0.18 (Debian: apt-get install libsodium23)"

try:
    import pysodium as _pysodium  # type: ignore[import-untyped]
except (OSError, ValueError, AttributeError) as exc:  # pysodium raises these when absent
    raise ImportError(f"{_INSTALL}: {exc}") from exc

if not _pysodium.sodium_version_check(1, 0, 18):
    raise ImportError(f"{_INSTALL}; found {_pysodium.sodium.sodium_version_string()!r}")

sodium: Any = _pysodium
"""The binding's functions."""

library: Any = _pysodium.sodium
"""The libsodium that pysodium loaded (a ctypes library), called directly by chain.keys
and ballotcrypto.group: pysodium's wrappers add a version check, length checks and a
result check to every call, a few µs each; a ballot's validation makes about 70 such calls
on points group.py has already validated (docs/adr/009), and every node checks every
ballot's signature."""
