"""The CLI without traps (issue 14) on a real cluster: ids typed shortened, messages in
the numbers people typed, --json failures, a cluster file found from a subfolder, `verify`
with no source, `org list`, `stats`, and the real cause when a replaced key votes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.keyfile import load_key
from cli.output import display_width
from tests.cluster.harness import ROOT, LocalCluster

PHONE = "+821055501234"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("traps"))
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def poll_id(cluster: LocalCluster) -> str:
    """A citizen poll with two questions of two options, and its creator enrolled."""
    cluster.cli("keygen", "citizen.pem")
    cluster.enroll_directly(PHONE, load_key(cluster.folder / "citizen.pem"))
    (cluster.folder / "park.toml").write_text(
        'kind = "citizen"\ntitle = "Name the new park"\nopens_in_minutes = 0\n'
        'duration_minutes = 60\nvisibility = "live"\n'
        '[[questions]]\ntext = "Name"\noptions = ["Maple Park", "River Park"]\n'
        '[[questions]]\ntext = "Opening hours"\noptions = ["Day", "Night"]\n'
    )
    created = json.loads(
        cluster.cli("poll", "create", "park.toml", "--key", "citizen.pem", "--json").stdout
    )
    assert created["receipt"]["accepted"], created
    return str(created["tx"]["tx_id"])


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`votechain ARGS` in `cwd`, without -c: the cluster file is found, not given."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_a_poll_id_prefix_works_and_a_wrong_one_is_said_one_way(
    cluster: LocalCluster, poll_id: str
) -> None:
    prefix = poll_id[:8]
    shown = cluster.cli("poll", "show", prefix).stdout
    assert "Name the new park" in shown
    voted = cluster.cli(
        "vote", prefix, "--answer", "1:2", "--answer", "2:1", "--key", "citizen.pem"
    )
    assert "accepted" in voted.stdout
    results = json.loads(cluster.cli("poll", "results", prefix, "--json").stdout)
    assert results["poll_id"] == poll_id and results["participants"] == 1

    tx_id = voted.stdout.split("(tx ")[1].split(")")[0]
    described = cluster.cli("tx", tx_id[:12]).stdout
    assert f"tx {tx_id} (cast_ballot)" in described

    unknown = "0" * 6 if not poll_id.startswith("0" * 6) else "f" * 6
    missing = cluster.cli("poll", "show", unknown, check=False)
    assert missing.returncode == 1
    assert f"error: poll id '{unknown}' matches no poll; a poll id is 64 hex" in missing.stderr
    as_json = cluster.cli("poll", "results", unknown, "--json", check=False)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"] == "unknown_id"
    not_hex = cluster.cli("vote", "xyz", "--answer", "1:1", "--key", "citizen.pem", check=False)
    assert "poll id 'xyz' is not hex (0-9, a-f); a poll id is 64 hex" in not_hex.stderr
    no_tx = cluster.cli("tx", unknown, check=False)
    assert f"tx id '{unknown}' matches no committed transaction; a tx id is 64 hex" in no_tx.stderr


def test_vote_mistakes_are_said_in_the_numbers_typed_and_change_nothing(
    cluster: LocalCluster, poll_id: str
) -> None:
    before = cluster.client().get("/v1/stats")
    cases = {
        ("--answer", "3:1"): "there is no question 3; this poll has 2 questions (Q1 options "
        "1..2, Q2 options 1..2)",
        ("--answer", "1:3"): "question 1 has no option 3; its options are 1..2",
        ("--answer", "1:1,2", "--answer", "2:1"): "question 1 takes 1 option of 1..2; you chose 2",
        ("--answer", "1:1"): "question 2 takes 1 option of 1..2; you chose 0",
        ("--answer", "one"): "--answer 'one' is not Q:OPT[,OPT]",
        (): "no --answer given: give one per question as --answer Q:OPT[,OPT]",
        ("--answer", "1:1", "--answer", "2:1", "--lat", "37.5"): "give --lat and --lon together",
        ("--answer", "1:1", "--answer", "2:1", "--ticket", "not-a-seed"): "not a ticket: "
        "expected 64 hex characters",
    }
    for extra, expected in cases.items():
        refused = cluster.cli("vote", poll_id, *extra, "--key", "citizen.pem", check=False)
        assert refused.returncode == 1, (extra, refused.stdout)
        assert expected in refused.stderr, (extra, refused.stderr)
        assert "Traceback" not in refused.stderr
    refused = cluster.cli(
        "vote", poll_id, "--answer", "1:3", "--key", "citizen.pem", "--json", check=False
    )
    assert json.loads(refused.stdout) == {
        "error": "bad_input",
        "message": "--answer '1:3': question 1 has no option 3; its options are 1..2",
    }
    assert cluster.client().get("/v1/stats") == before


def test_org_list_and_stats(cluster: LocalCluster) -> None:
    cluster.cli("keygen", "mapo.pem")
    mapo_key = load_key(cluster.folder / "mapo.pem").public_key.hex()
    cluster.cli(
        "org",
        "register",
        "--id",
        "mapo-gu",
        "--name",
        "마포구청",
        "--category",
        "district_office",
        "--org-key",
        "mapo.pem",
        "--admin-key",
        str(cluster.config.keys_dir / "admin.pem"),
    )
    listed = cluster.cli("org", "list").stdout.splitlines()
    header, row = listed[0], next(line for line in listed if line.startswith("mapo-gu"))
    assert "마포구청" in row and "district_office" in row and mapo_key[:16] in row
    # The Korean name takes two columns a character: later columns still line up.
    assert display_width(row[: row.index("district_office")]) == header.index("category")
    orgs = json.loads(cluster.cli("org", "list", "--json").stdout)
    assert {"org_id": "mapo-gu", "name": "마포구청", "category": "district_office"}.items() <= (
        next(o for o in orgs if o["org_id"] == "mapo-gu").items()
    )
    assert [k["key"] for k in orgs[-1]["keys"]] == [mapo_key]

    stats = json.loads(cluster.cli("stats", "--json").stdout)
    assert stats == cluster.client().get("/v1/stats") and stats["orgs"] >= 1
    table = cluster.cli("stats").stdout
    assert re.search(rf"^organisations registered\s+{stats['orgs']}$", table, re.M), table
    assert re.search(rf"^ballots accepted \(revotes included\)\s+{stats['ballots']}$", table, re.M)


def test_the_cluster_file_is_found_from_a_subfolder_or_the_environment(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    deeper = cluster.folder / "ballots" / "2026"
    deeper.mkdir(parents=True, exist_ok=True)
    found = run(deeper, "stats", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == cluster.client().get("/v1/stats")
    nowhere = run(tmp_path, "poll", "list", "--json")
    assert nowhere.returncode == 1 and json.loads(nowhere.stdout)["error"] == "bad_config"
    by_env = run(
        tmp_path, "poll", "list", "--json", env={"VOTECHAIN_CONFIG": str(cluster.config_path)}
    )
    assert by_env.returncode == 0, by_env.stderr
    one = run(tmp_path, "status", "--rpc", cluster.config.node("n2").rpc_url, "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["node"] == "n2"


def test_verify_with_no_source_checks_the_local_cluster(cluster: LocalCluster) -> None:
    audit = cluster.folder / "audit"
    audit.mkdir(exist_ok=True)
    checked = run(audit, "verify", "--workers", "1")
    assert checked.returncode == 0, checked.stderr
    assert "everything checks" in checked.stdout
    assert cluster.genesis.genesis_hash.hex() in checked.stdout


def test_a_replaced_key_is_told_why_it_cannot_vote(cluster: LocalCluster, poll_id: str) -> None:
    phone = "+821055509876"
    for name in ("first", "second", "third"):
        cluster.cli("keygen", f"{name}.pem")
    cluster.enroll_directly(phone, load_key(cluster.folder / "first.pem"))
    cluster.enroll_directly(phone, load_key(cluster.folder / "second.pem"))
    # A third enrolment during the wait displaces the second key, which is revoked now.
    cluster.enroll_directly(phone, load_key(cluster.folder / "third.pem"))
    refused = cluster.cli(
        "vote", poll_id, "--answer", "1:1", "--answer", "2:2", "--key", "second.pem", check=False
    )
    assert refused.returncode == 1
    assert "key_revoked: this key was replaced by a newer enrolment of its phone" in refused.stderr
    as_json = json.loads(
        cluster.cli(
            "vote",
            poll_id,
            "--answer",
            "1:1",
            "--answer",
            "2:2",
            "--key",
            "second.pem",
            "--json",
            check=False,
        ).stdout
    )
    assert as_json["error"] == "refused" and as_json["reason"] == "key_revoked"
    history = cluster.cli("history", "--key", "second.pem", check=False)
    assert "key_revoked: this key was replaced" in history.stderr
