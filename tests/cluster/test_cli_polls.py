"""Organisations and poll creators through the CLI: register, create from TOML, vote
through a password gate and with on-site tickets, close early, read results."""

from __future__ import annotations

import json
import re
import shutil

from tests.cluster.harness import ROOT, LocalCluster


def test_an_org_runs_a_password_and_ticket_poll_from_a_toml_file(cluster: LocalCluster) -> None:
    keys = cluster.config.keys_dir
    cluster.cli("keygen", "office.pem")
    registered = cluster.cli(
        "org",
        "register",
        "--id",
        "gangnam-office",
        "--name",
        "Gangnam-gu Office",
        "--category",
        "district_office",
        "--org-key",
        "office.pem",
        "--admin-key",
        str(keys / "admin.pem"),
    )
    assert "accepted" in registered.stdout
    shutil.copy(ROOT / "docs" / "examples" / "staff-poll.toml", cluster.folder / "staff.toml")
    created = json.loads(
        cluster.cli("poll", "create", "staff.toml", "--key", "office.pem", "--json").stdout
    )
    poll_id = created["tx"]["tx_id"]
    tickets = (cluster.folder / "staff.tickets.txt").read_text().split()
    assert len(tickets) == 3 and (cluster.folder / "staff.tickets.txt").stat().st_mode & 0o077 == 0

    shown = cluster.cli("poll", "show", poll_id).stdout
    assert "password" in shown and "tickets" in shown and "1. Korean" in shown

    cluster.cli("keygen", "staff1.pem")
    wrong = cluster.cli(
        "vote",
        poll_id,
        "--answer",
        "1:1",
        "--key",
        "staff1.pem",
        "--password",
        "guess",
        "--ticket",
        tickets[0],
        check=False,
    )
    assert wrong.returncode != 0 and "bad_gate_proof" in wrong.stderr
    for number, (answer, ticket) in enumerate([("1:1", tickets[0]), ("1:3", tickets[1])]):
        cluster.cli("keygen", f"voter{number}.pem")
        voted = cluster.cli(
            "vote",
            poll_id,
            "--answer",
            answer,
            "--key",
            f"voter{number}.pem",
            "--password",
            "canteen vote for december",
            "--ticket",
            ticket,
        )
        assert "accepted" in voted.stdout
    reused = cluster.cli(
        "vote",
        poll_id,
        "--answer",
        "1:2",
        "--key",
        "staff1.pem",
        "--password",
        "canteen vote for december",
        "--ticket",
        tickets[0],
        check=False,
    )
    assert reused.returncode != 0 and "ticket_used" in reused.stderr

    hidden = cluster.cli("poll", "results", poll_id).stdout
    assert "shown after the poll closes" in hidden
    closed = cluster.cli("poll", "close", poll_id, "--key", "office.pem")
    assert "accepted" in closed.stdout
    results = cluster.cli("poll", "results", poll_id).stdout
    assert re.search(r"Korean\s+1\s+50\.00%", results), results
    assert re.search(r"Vegetarian\s+1\s+50\.00%", results), results
    assert "participants: 2" in results


def test_a_citizen_poll_among_ourselves(cluster: LocalCluster) -> None:
    cluster.cli("keygen", "citizen.pem")
    enrolled = cluster.cli("enroll", "--phone", "+821098765432", "--key", "citizen.pem")
    assert "accepted" in enrolled.stdout
    (cluster.folder / "park.toml").write_text(
        'kind = "citizen"\ntitle = "Name the new park"\nopens_in_minutes = 0\n'
        'duration_minutes = 30\n[[questions]]\ntext = "Name"\n'
        'options = ["Maple Park", "River Park"]\n'
    )
    created = json.loads(
        cluster.cli("poll", "create", "park.toml", "--key", "citizen.pem", "--json").stdout
    )
    assert created["receipt"]["accepted"]
    listed = json.loads(cluster.cli("poll", "list", "--status", "open", "--json").stdout)
    assert [p["title"] for p in listed] == ["Name the new park"]
    voted = cluster.cli("vote", created["tx"]["tx_id"], "--answer", "1:2", "--key", "citizen.pem")
    assert "accepted" in voted.stdout
    history = json.loads(cluster.cli("history", "--key", "citizen.pem", "--json").stdout)
    assert [r["poll_id"] for r in history["records"]] == [created["tx"]["tx_id"]]
