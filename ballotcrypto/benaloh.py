"""Benaloh's "cast or audit" check, on the voter's device.

Before casting, a voter may ask the booth to open an encrypted question: the booth shows
the options it says it encrypted and the randomness r_i of each, and the device
recomputes Enc(s_i; r_i) = (r_i·G, s_i·G + r_i·Y) (elgamal.py, E1) and compares it with
the ciphertexts the booth produced. An audited ballot is never cast (its randomness is
now public), so a booth that cheats cannot know which ballots will be checked.
"""

from __future__ import annotations

from collections.abc import Sequence

from ballotcrypto import elgamal
from ballotcrypto.elgamal import Ciphertext
from ballotcrypto.group import L, Point


def mismatched_options(
    public_key: Point,
    ciphertexts: Sequence[Ciphertext],
    selections: Sequence[int],
    randomness: Sequence[int],
) -> list[int]:
    """The indices of options whose ciphertext is not Enc(selection; r); [] when the
    booth encrypted exactly what it claims. A count that differs names every option."""
    if not len(ciphertexts) == len(selections) == len(randomness):
        return list(range(max(len(ciphertexts), len(selections), len(randomness))))
    return [
        i
        for i, (ciphertext, s, r) in enumerate(
            zip(ciphertexts, selections, randomness, strict=True)
        )
        if s not in (0, 1) or not 0 < r < L or elgamal.encrypt(public_key, s, r) != ciphertext
    ]
