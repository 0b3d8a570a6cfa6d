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
import os
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
ENV_BY_PACKAGE: dict[str, dict[str, str]] = {
    "verifier": {"VOTECHAIN_TEST_CLUSTER_CHAIN_DIR": "cluster-chain"},
}
PREPARE_BY_PACKAGE: dict[str, list[str]] = {
    "verifier": ["tests/verifier/test_sources_and_receipts.py::test_an_altered_receipt_fails"],
}

# Everything the tests read beside the package under test: mutmut runs them inside its own
# mutants/ folder, which holds only what it is told to copy.
ALSO_COPY = ["chain", "consensus", "votingcontract", "verifier", "node", "cli", "bench", "docs"]

# Files mutmut must not mutate: no rule lives there (re-exports, docstring-only modules).
DO_NOT_MUTATE = ["*/__init__.py"]


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
    args = parser.parse_intermixed_args(argv)

    workdir = ROOT / "build" / "mutation" / args.package
    if args.fresh and workdir.exists():
        shutil.rmtree(workdir)
    export_head(workdir)
    write_config(workdir, args.package)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    env = dict(os.environ)
    for name, folder in ENV_BY_PACKAGE.get(args.package, {}).items():
        env[name] = str(workdir / folder)
    if args.package in PREPARE_BY_PACKAGE:
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        prepare = [*pytest, *PREPARE_BY_PACKAGE[args.package]]
        subprocess.run(prepare, cwd=workdir, env=env, check=True)
    names: list[str] = list(args.patterns)
    if args.survivors:
        names = (workdir / "survivors.txt").read_text().split()
        if not names:
            print("no survivors to run again")
            return report(workdir, mutmut, args.package)
    run = [mutmut, "run", "--max-children", str(args.max_children), *names]
    subprocess.run(run, cwd=workdir, env=env)
    return report(workdir, mutmut, args.package)


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


def report(workdir: Path, mutmut: str, package: str) -> int:
    """Prints the score and writes survivors.txt and no-tests.txt (one mutant a line).

    The score is killed / (killed + survived): mutants that a test ran against. Timeouts
    count as killed (the mutant hung the tests, which noticed). Mutants no selected test
    reaches ("no tests") are reported apart: they are a gap in coverage, not survivors.
    """
    listed = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=workdir, capture_output=True, text=True
    ).stdout
    by_status: dict[str, list[str]] = {}
    for line in listed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            by_status.setdefault(status, []).append(name)
    for status, filename in (("survived", "survivors.txt"), ("no tests", "no-tests.txt")):
        names = sorted(by_status.get(status, []))
        (workdir / filename).write_text("".join(f"{name}\n" for name in names))
    counts = {status: len(names) for status, names in sorted(by_status.items())}
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = killed + counts.get("survived", 0) + counts.get("suspicious", 0)
    score = 100.0 * killed / tested if tested else 0.0
    print(f"{package}: {json.dumps(counts)}")
    print(
        f"{package}: mutation score {score:.1f}% ({killed} of {tested} tested mutants killed; "
        f"{counts.get('no tests', 0)} reached by no test, {counts.get('not checked', 0)} not run)"
    )
    print(f"lists in {workdir}/survivors.txt and no-tests.txt; `cd {workdir} && mutmut show NAME`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
