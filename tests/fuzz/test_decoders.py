"""Issue 11: the decoders that read what peers, clients and files send never fail with
anything but their own error (DecodeError; InvalidMessage for consensus messages).

A short property-based run of every target of tests/fuzz/targets.py in `make test`:
random bytes, valid encodings with bytes flipped, inserted, removed and truncated, and
valid encodings with one element of their tree replaced, repeated or removed,
plus every input in tests/fuzz/regressions/<target>/ (crashes found by the longer
coverage-guided runs of tests/fuzz/run_atheris.py, kept so they never come back). The
longer runs and the atheris smoke test are documented in docs/TESTING.md.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, mutate, mutate_value, run_one

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).parent / "regressions"
EXAMPLES = int(os.environ.get("VOTECHAIN_FUZZ_EXAMPLES", "300"))
"""Examples per target in the default suite; raise it for a longer local run."""


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few seeded edits (targets.mutate)."""
    seed = draw(st.sampled_from(seeds))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    return mutate_value(seed, rng) if draw(st.booleans()) else mutate(seed, rng)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=512), mutated(TARGETS[name].seeds()))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_decoder_raises_only_its_own_error(name: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(inputs(name))
    def check(data: bytes) -> None:
        run_one(name, data)

    check()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_seeds_decode(name: str) -> None:
    """The seeds are valid: a mutating fuzzer starts inside each format, not at its door."""
    for seed in TARGETS[name].seeds():
        TARGETS[name].decode(seed)  # raises on a broken seed


def regression_inputs() -> list[tuple[str, Path]]:
    return [
        (folder.name, path)
        for folder in sorted(REGRESSIONS.iterdir())
        if folder.is_dir()
        for path in sorted(folder.iterdir())
    ]


@pytest.mark.parametrize(("name", "path"), regression_inputs(), ids=lambda v: str(v)[-24:])
def test_a_crash_found_by_fuzzing_stays_fixed(name: str, path: Path) -> None:
    run_one(name, path.read_bytes())


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.parametrize("name", ["consensus_message", "peer_hello", "raw_block"])
def test_a_short_coverage_guided_run_finds_no_crash(name: str, tmp_path: Path) -> None:
    """A few thousand atheris runs from the seeds, in its own process (libFuzzer exits)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run_atheris", name, "-runs=5000", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DONE" in result.stderr
