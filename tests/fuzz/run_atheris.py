"""Coverage-guided fuzzing of one decoder with atheris (libFuzzer), as documented in
docs/TESTING.md:

    .venv/bin/python -m tests.fuzz.run_atheris consensus_message -max_total_time=600
    .venv/bin/python -m tests.fuzz.run_atheris --list

Any libFuzzer flag may follow the target's name (-runs=N, -max_total_time=S, a corpus
folder). Without a folder the corpus is build/fuzz/<target>/; either way it starts from
the seeds of tests/fuzz/targets.py (valid encodings) and is kept between runs. A crash
is an exception other than the target's allowed error: libFuzzer writes the input to
crash-<sha1>; add it to tests/fuzz/regressions/<target>/ so the default suite replays it.
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["chain", "consensus", "node", "votingcontract"]):
    from tests.fuzz.targets import TARGETS, mutate_value, run_one

CORPUS_ROOT = Path(__file__).resolve().parents[2] / "build" / "fuzz"
"""Corpora live under build/ (not committed): build/fuzz/<target>/."""
MAX_LEN_BYTES = 16_384
"""Inputs up to this size: room for a pre-prepare with a few transactions."""


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] == "--list" or argv[1] not in TARGETS:
        print("targets: " + ", ".join(TARGETS))
        return 0 if len(argv) >= 2 and argv[1] == "--list" else 2
    name = argv[1]
    flags = [a for a in argv[2:] if a.startswith("-")]
    folders = [a for a in argv[2:] if not a.startswith("-")]
    # The corpus (the first folder) starts from the seeds (valid encodings).
    corpus = Path(folders[0]) if folders else CORPUS_ROOT / name
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in TARGETS[name].seeds():
        (corpus / f"seed-{hashlib.sha1(seed).hexdigest()}").write_bytes(seed)
    folders = folders or [str(corpus)]
    if not any(f.startswith("-max_len=") for f in flags):
        flags.append(f"-max_len={MAX_LEN_BYTES}")

    def one_input(data: bytes) -> None:
        run_one(name, data)

    def mutator(data: bytes, max_size: int, seed: int) -> bytes:
        # Half libFuzzer's byte mutations, half structure-aware ones (an element of the
        # decoded tree replaced, repeated or removed, then encoded canonically again),
        # which reach the rules behind the byte-level checks.
        if seed % 2:
            return atheris.Mutate(data, max_size)
        return mutate_value(data, random.Random(seed))[:max_size]

    atheris.Setup([argv[0], *flags, *folders], one_input, custom_mutator=mutator)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
