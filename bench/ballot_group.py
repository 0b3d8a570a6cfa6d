"""`python -m bench.ballot_group`: the measurements behind ADR 009's choice of group.

Times, per call and through each Python binding as the code would call it, scalar
multiplication (a variable point and the base point), point addition and point
validation, for ristretto255 (pysodium over the system's libsodium; rbcl, which bundles
one, if installed) and for the Ed25519 prime-order subgroup (PyNaCl, if installed:
libsodium's ed25519 functions, whose variable-base multiplication and validation check
subgroup membership). A binding that is not installed is reported as skipped; neither
rbcl nor PyNaCl is a dependency, so to compare, install them apart from the project:

    pip install --target /tmp/groups pynacl rbcl
    PYTHONPATH=/tmp/groups python -m bench.ballot_group

(rbcl writes its bundled libsodium to a new temporary file at every import and leaves
it there: remove /tmp/tmp*.so afterwards). Prints the best of 3 timings of 2,000 calls
each, in µs.
"""

from __future__ import annotations

import importlib
import sys
import timeit
from collections.abc import Callable
from typing import Any

L = 2**252 + 27742317777372353535851937790883648493
CALLS = 2000
K = (123456789123456789123456789 * 987654321987654321 % L).to_bytes(32, "little")
K2 = (55555555555555555555555555555 * 777777777777777 % L).to_bytes(32, "little")


def best_us(fn: Callable[[], object]) -> float:
    return min(timeit.repeat(fn, number=CALLS, repeat=3)) / CALLS * 1e6


def ristretto(module: Any) -> dict[str, Callable[[], object]]:
    p = module.crypto_scalarmult_ristretto255_base(K)
    q = module.crypto_scalarmult_ristretto255_base(K2)
    return {
        "mul": lambda: module.crypto_scalarmult_ristretto255(K, p),
        "base_mul": lambda: module.crypto_scalarmult_ristretto255_base(K),
        "add": lambda: module.crypto_core_ristretto255_add(p, q),
        "validate": lambda: module.crypto_core_ristretto255_is_valid_point(p),
    }


def ed25519(bindings: Any) -> dict[str, Callable[[], object]]:
    p = bindings.crypto_scalarmult_ed25519_base_noclamp(K)
    q = bindings.crypto_scalarmult_ed25519_base_noclamp(K2)
    return {
        "mul": lambda: bindings.crypto_scalarmult_ed25519_noclamp(K, p),
        "base_mul": lambda: bindings.crypto_scalarmult_ed25519_base_noclamp(K),
        "add": lambda: bindings.crypto_core_ed25519_add(p, q),
        "validate": lambda: bindings.crypto_core_ed25519_is_valid_point(p),
    }


CANDIDATES: list[tuple[str, str, Callable[[Any], dict[str, Callable[[], object]]]]] = [
    ("ristretto255 / pysodium (system libsodium)", "pysodium", ristretto),
    ("ristretto255 / rbcl (bundled libsodium)", "rbcl", ristretto),
    ("ed25519 subgroup / PyNaCl (bundled libsodium)", "nacl.bindings", ed25519),
]


def main() -> int:
    print(f"{'group / binding':48s} {'mul':>8s} {'base_mul':>9s} {'add':>8s} {'validate':>9s}")
    for label, module_name, operations in CANDIDATES:
        try:
            module = importlib.import_module(module_name)
        except (ImportError, OSError, ValueError) as exc:
            print(f"{label:48s} skipped: {exc}")
            continue
        timings = {name: best_us(fn) for name, fn in operations(module).items()}
        print(
            f"{label:48s} {timings['mul']:8.1f} {timings['base_mul']:9.1f} "
            f"{timings['add']:8.1f} {timings['validate']:9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
