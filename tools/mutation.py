"""Mutation testing of one package: `make mutation PKG=verifier` (docs/TESTING.md).

mutmut changes the code one small edit at a time (a `<` for a `<=`, a constant plus one, a
call dropped) and runs the tests that cover the changed function; a mutant the tests do not
notice "survives" and marks a rule no test holds. A run mutates one package and runs only
that package's tests, so it takes minutes to hours on two cores, never days.

The run happens in a copy of the last commit (HEAD) under build/mutation/PKG/ (mutmut writes its
own mutants/ folder and setup.cfg there), so it never touches the checkout other people are
editing, and a second run of the same package reuses mutmut's cache for unchanged functions.
At the end it prints the score and writes build/mutation/PKG/survivors.txt: one surviving
mutant a line, to compare with docs/mutation-survivors.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Which tests guard which package. Tests that start OS processes (a cluster, the CLI) can
# only kill a mutant through what they check in this process: the processes import the
# unmutated checkout. tests/chain/test_store_crash.py kills writer processes and proves
# nothing about a mutant in this process.
TESTS_BY_PACKAGE: dict[str, list[str]] = {
    "ballotcrypto": ["tests/ballotcrypto"],
    "chain": ["tests/chain", "--ignore=tests/chain/test_store_crash.py"],
    "consensus": ["tests/consensus", "tests/simulation"],
    "votingcontract": ["tests/votingcontract"],
    "verifier": [
        "tests/verifier",
        # These run `votechain` as a process from a temporary folder, where the mutated
        # code cannot find mutmut's configuration and fails whatever the mutant.
        *(
            f"--deselect=tests/verifier/test_sources_and_receipts.py::test_{name}"
            for name in (
                "cli_verify_pins_the_genesis_hash",
                "cli_verify_json_reports_the_first_failure",
                "export_checksum_and_truncation_are_detected",
                "a_saved_receipt_verifies_without_replay",
                "a_receipt_without_its_next_block_is_not_yet_certified",
                "a_receipt_checked_against_another_genesis_fails",
            )
        ),
    ],
}

# The verifier's tests share one chain made by a real cluster (tests/verifier/
# cluster_chain.py). It is built once, before mutmut starts, from the unmutated copy: the
# build runs `votechain` processes, which cannot run mutated code (see above).
# The consensus simulation runs 112 of its 500 default seeds per mutant (8 per scenario,
# tests/simulation/test_simulation.py): a surviving mutant costs about a minute instead of
# several. A mutant only the other 388 seeds would catch counts as a survivor, so the score
# is a lower bound of what the whole suite kills.
ENV_BY_PACKAGE: dict[str, dict[str, str]] = {
    "verifier": {"VOTECHAIN_TEST_CLUSTER_CHAIN_DIR": "{workdir}/cluster-chain"},
    "consensus": {"VOTECHAIN_SIMULATION_SEEDS": "112"},
}
PREPARE_BY_PACKAGE: dict[str, list[str]] = {
    "verifier": ["tests/verifier/test_sources_and_receipts.py::test_an_altered_receipt_fails"],
}

# Everything the tests read beside the package under test: mutmut runs them inside its own
# mutants/ folder, which holds only what it is told to copy.
ALSO_COPY = [
    "ballotcrypto",
    "chain",
    "consensus",
    "votingcontract",
    "verifier",
    "node",
    "cli",
    "bench",
    "docs",
]

# Files mutmut must not mutate: no rule lives there (re-exports, docstring-only modules).
DO_NOT_MUTATE = ["*/__init__.py"]


NOTICED = ("killed", "timeout", "segfault")
"""mutmut's verdicts where the tests noticed the mutant: they failed, hung, or their process
crashed (ballotcrypto: a `Point(None)` handed to libsodium is a null pointer)."""

SAMPLE_CHUNK = 25
"""Mutants of a sample run together (see main). Each `mutmut run` first runs the tests
they need once unmutated (about a minute for consensus), so chunks are not tiny."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", choices=sorted(TESTS_BY_PACKAGE))
    parser.add_argument(
        "patterns",
        nargs="*",
        help="only these mutants (mutmut names, * allowed: 'votingcontract.ballots*')",
    )
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--fresh", action="store_true", help="forget the previous run's results")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run again only the previous run's survivors (after adding tests for them)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="run a random sample of N of the package's mutants and score the sample "
        "(with a 95%% interval): for packages whose whole run takes longer than there is",
    )
    parser.add_argument("--sample-seed", type=int, default=1, help="which random sample")
    args = parser.parse_intermixed_args(argv)

    workdir = ROOT / "build" / "mutation" / args.package
    if args.fresh and workdir.exists():
        shutil.rmtree(workdir)
    export_head(workdir)
    forget_test_coverage(workdir)
    write_config(workdir, args.package)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    env = dict(os.environ)
    for name, value in ENV_BY_PACKAGE.get(args.package, {}).items():
        env[name] = value.format(workdir=workdir)
    if args.package in PREPARE_BY_PACKAGE:
        # Built again by every run, from this run's tree: a chain kept from an older tree
        # may be in a store layout the code no longer writes.
        shutil.rmtree(workdir / "cluster-chain", ignore_errors=True)
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        prepare = [*pytest, *PREPARE_BY_PACKAGE[args.package]]
        subprocess.run(prepare, cwd=workdir, env=env, check=True)
    names: list[str] = list(args.patterns)
    if args.sample:
        sample = draw_sample(workdir, mutmut, env, args.sample, args.sample_seed)
        (workdir / "sample.txt").write_text("".join(f"{name}\n" for name in sample))
        # Killed stays killed (tests are only added); the rest run again by name.
        statuses = mutant_statuses(workdir, mutmut)
        names = [name for name in sample if statuses.get(name) != "killed"]
        print(f"sample of {len(sample)} (seed {args.sample_seed}): {len(names)} to run")
        if not names:
            return report(workdir, mutmut, args.package)
    elif args.survivors:
        names = (workdir / "survivors.txt").read_text().split()
        if not names:
            print("no survivors to run again")
            return report(workdir, mutmut, args.package)
    run = [mutmut, "run", "--max-children", str(args.max_children)]
    if args.sample:
        # mutmut takes the names it is given module by module; in small chunks of a shuffled
        # order instead, the part of the sample a stopped run reached is itself random.
        random.Random(args.sample_seed).shuffle(names)
        # Until a mutant runs again its cached verdict may be an older tree's: the sample
        # is scored over the killed ones (which stay killed) and the chunks run so far.
        counted = [name for name in sample if name not in names]
        for start in range(0, len(names), SAMPLE_CHUNK):
            chunk = names[start : start + SAMPLE_CHUNK]
            subprocess.run([*run, *chunk], cwd=workdir, env=env)
            counted += chunk
            report(workdir, mutmut, args.package, counted)
        return report(workdir, mutmut, args.package, counted)
    subprocess.run([*run, *names], cwd=workdir, env=env)
    return report(workdir, mutmut, args.package)


def forget_test_coverage(workdir: Path) -> None:
    """mutmut runs a mutant only against the tests that reached its function when it last
    recorded which tests reach which functions, and on a later run records that only for
    tests it has not seen. A function added or changed since would be tried against a few
    tests and its mutants "survive" (votingcontract, 1 December 2026: Access._parse_settings
    against 16 of 686 tests). So every run records it again, for every test: one run of the
    package's tests with tracing, which mutmut does when its stats file is missing."""
    (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)


def export_head(workdir: Path) -> None:
    """Writes the committed tree (HEAD) into `workdir`: a run measures a commit, so two
    runs compare, and work in progress in the checkout cannot break one."""
    workdir.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)


def write_config(workdir: Path, package: str) -> None:
    """mutmut reads [mutmut] from setup.cfg when pyproject.toml has no [tool.mutmut]."""
    selection = "\n    ".join(TESTS_BY_PACKAGE[package])
    excluded = "\n    ".join(f"{package}/{pattern.removeprefix('*/')}" for pattern in DO_NOT_MUTATE)
    also_copy = "\n    ".join(name + "/" for name in ALSO_COPY if name != package)
    (workdir / "setup.cfg").write_text(
        "[mutmut]\n"
        f"source_paths = {package}/\n"
        f"do_not_mutate =\n    {excluded}\n"
        f"also_copy =\n    {also_copy}\n"
        f"pytest_add_cli_args_test_selection =\n    {selection}\n"
        "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n"
    )


def mutant_statuses(workdir: Path, mutmut: str) -> dict[str, str]:
    """Every mutant mutmut knows in `workdir`, by name: killed, survived, not checked, ..."""
    listed = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=workdir, capture_output=True, text=True
    ).stdout
    statuses: dict[str, str] = {}
    for line in listed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            statuses[name] = status
    return statuses


def draw_sample(workdir: Path, mutmut: str, env: dict[str, str], size: int, seed: int) -> list[str]:
    """`size` mutant names drawn at random (seeded) from all of the package's mutants. The
    mutants are generated first if this folder has none (mutmut generates them when it
    runs; a run of one mutant that does not exist stops right after generating)."""
    statuses = mutant_statuses(workdir, mutmut)
    if not statuses:
        subprocess.run(
            [mutmut, "run", "--max-children", "1", "nothing-matches-this"],
            cwd=workdir,
            env=env,
            capture_output=True,
        )
        statuses = mutant_statuses(workdir, mutmut)
    names = sorted(statuses)
    return sorted(random.Random(seed).sample(names, min(size, len(names))))


def wilson_interval(killed: int, tested: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion: what the whole package's score is
    likely to be, given a random sample's."""
    if not tested:
        return 0.0, 0.0
    p = killed / tested
    centre = (p + z * z / (2 * tested)) / (1 + z * z / tested)
    half = (
        z * math.sqrt(p * (1 - p) / tested + z * z / (4 * tested * tested)) / (1 + z * z / tested)
    )
    return centre - half, centre + half


def report(
    workdir: Path, mutmut: str, package: str, sample_counted: list[str] | None = None
) -> int:
    """Prints the score and writes survivors.txt and no-tests.txt (one mutant a line).

    The score is killed / (killed + survived): mutants that a test ran against. Timeouts
    and segfaults count as killed (the mutant hung or crashed the tests, which noticed).
    Mutants no selected test reaches ("no tests") are reported apart: they are a gap in
    coverage, not survivors.
    """
    by_status: dict[str, list[str]] = {}
    for name, status in mutant_statuses(workdir, mutmut).items():
        by_status.setdefault(status, []).append(name)
    for status, filename in (("survived", "survivors.txt"), ("no tests", "no-tests.txt")):
        names = sorted(by_status.get(status, []))
        (workdir / filename).write_text("".join(f"{name}\n" for name in names))
    counts = {status: len(names) for status, names in sorted(by_status.items())}
    killed = sum(counts.get(status, 0) for status in NOTICED)
    tested = killed + counts.get("survived", 0) + counts.get("suspicious", 0)
    score = 100.0 * killed / tested if tested else 0.0
    print(f"{package}: {json.dumps(counts)}")
    print(
        f"{package}: mutation score {score:.1f}% ({killed} of {tested} tested mutants killed; "
        f"{counts.get('no tests', 0)} reached by no test, {counts.get('not checked', 0)} not run)"
    )
    print(f"lists in {workdir}/survivors.txt and no-tests.txt; `cd {workdir} && mutmut show NAME`")
    sample_file = workdir / "sample.txt"
    if sample_counted is not None:
        report_sample(workdir, package, sample_counted, by_status)
    elif sample_file.exists():
        report_sample(workdir, package, sample_file.read_text().split(), by_status)
    return 0


def report_sample(
    workdir: Path, package: str, sample: list[str], by_status: dict[str, list[str]]
) -> None:
    """The score of the sample's mutants alone (those decided in this run), and its 95%
    interval."""
    status_of = {name: status for status, names in by_status.items() for name in names}
    counts: dict[str, int] = {}
    for name in sample:
        counts[status_of.get(name, "unknown")] = counts.get(status_of.get(name, "unknown"), 0) + 1
    killed = sum(counts.get(status, 0) for status in NOTICED)
    tested = killed + counts.get("survived", 0) + counts.get("suspicious", 0)
    low, high = wilson_interval(killed, tested)
    survivors = sorted(n for n in sample if status_of.get(n) == "survived")
    (workdir / "sample-survivors.txt").write_text("".join(f"{n}\n" for n in survivors))
    print(f"{package} sample of {len(sample)}: {json.dumps(dict(sorted(counts.items())))}")
    if tested:
        print(
            f"{package} sample: mutation score {100.0 * killed / tested:.1f}% ({killed} of "
            f"{tested}); 95% interval for the whole package {100 * low:.1f}%-{100 * high:.1f}%"
        )
    print(f"the sample's survivors: {workdir}/sample-survivors.txt")


if __name__ == "__main__":
    sys.exit(main())
