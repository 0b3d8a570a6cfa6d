"""An office builds voter rolls from phone numbers on a real cluster (issue 14, docs/adr/007).

The README's roll steps run as written: a poll whose roll is docs/examples/voters.csv; a
citizen whose number is in the file votes, one whose number is not is refused. Then a
roll too big for one transaction, a roll extended from a file (a bad row first: nothing
sent), a closing time moved later and tickets issued, all through the CLI. Afterwards no
phone number is in any validator's data directory or in any log.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

from chain.keyfile import load_key
from tests.cluster.harness import ROOT, LocalCluster

README = ROOT / "README.md"
ON_ROLL = "+821012345678"  # 010-1234-5678 in voters.csv, and the README's enrolled number
OFF_ROLL = "+821099998888"
EXTENDED = "+821077770001"
BIG_ROLL = 1_200


def readme_roll_steps() -> list[list[str]]:
    block = re.search(
        r"### A voter roll from a CSV file.*?```sh\n(.*?)```", README.read_text(), re.S
    )
    assert block, "README has no roll-poll block"
    return [
        shlex.split(line.split("#", 1)[0])[1:]
        for line in block.group(1).splitlines()
        if line.startswith("votechain ")
    ]


def all_numbers_forms(e164: str) -> list[str]:
    national = "0" + e164[3:]
    return [e164, national, f"{national[:3]}-{national[3:7]}-{national[7:]}", e164[3:]]


def test_an_office_runs_roll_polls_from_phone_numbers_and_no_number_reaches_a_node(
    cluster: LocalCluster,
) -> None:
    folder, keys = cluster.folder, cluster.config.keys_dir
    (folder / "docs" / "examples").mkdir(parents=True)
    for name in ("roll-poll.toml", "voters.csv"):
        shutil.copy(ROOT / "docs" / "examples" / name, folder / "docs" / "examples" / name)
    # `votechain up` registers the demo organisation; this cluster was started bare
    cluster.cli(
        "org", "register", "--id", "seoul-city", "--name", "Seoul (demo)",
        "--org-key", str(keys / "demo-org.pem"), "--admin-key", str(keys / "admin.pem"),
    )  # fmt: skip
    cluster.cli("keygen", "me.pem")
    cluster.enroll_directly(ON_ROLL, load_key(folder / "me.pem"))

    # --- the README's steps ----------------------------------------------------------------
    transcript = {}
    poll_id = ""
    for step in readme_roll_steps():
        args = [poll_id if word == "ROLL_POLL_ID" else word for word in step]
        result = cluster.cli(*args, check=False)
        transcript[" ".join(step[:3])] = result
        if step[:2] == ["poll", "create"] and "--dry-run" in step:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "poll id:" not in result.stdout  # nothing was sent
        elif step[:2] == ["poll", "create"]:
            assert result.returncode == 0, result.stdout + result.stderr
            poll_id = re.search(r"poll id: ([0-9a-f]{64})", result.stdout).group(1)  # type: ignore[union-attr]
            assert "roll: 5 phone numbers as phone ids, 1 repeated numbers skipped" in (
                result.stderr
            )
    assert poll_id
    voted = transcript["vote ROLL_POLL_ID --answer"]
    assert "accepted" in voted.stdout, voted.stdout + voted.stderr
    cluster.cli("keygen", "stranger.pem")
    cluster.enroll_directly(OFF_ROLL, load_key(folder / "stranger.pem"))
    refused = cluster.cli("vote", poll_id, "--answer", "1:1", "--key", "stranger.pem", check=False)
    assert refused.returncode != 0 and "not_eligible" in refused.stdout + refused.stderr
    results = json.loads(cluster.cli("poll", "results", poll_id, "--json").stdout)
    assert results["participants"] == 1

    # --- a roll bigger than one transaction: create_poll, then extend_roll -----------------
    big = folder / "big.csv"
    big.write_text("phone\n" + "".join(f"010-3000-{i:04d}\n" for i in range(BIG_ROLL)))
    later = (ROOT / "docs" / "examples" / "roll-poll.toml").read_text()
    later = later.replace("opens_in_minutes = 0", "opens_in_minutes = 10")
    (folder / "big.toml").write_text(
        later.replace('roll_file = "voters.csv"', 'roll_file = "big.csv"')
    )
    created = cluster.cli(
        "poll", "create", "big.toml", "--key", str(keys / "demo-org.pem"), "--json"
    )
    document = json.loads(created.stdout)
    assert document["receipt"]["accepted"] and document["roll"]["complete"], document
    assert document["roll"]["numbers"] == BIG_ROLL and len(document["roll"]["extend_roll"]) == 1
    assert "extend_roll 1 of 1: 200 entries added" in created.stderr
    big_poll = document["tx"]["tx_id"]

    # --- extend-roll from a file: a bad row refuses the file, then the fixed file is added --
    extra = folder / "extra.csv"
    extra.write_text("phone\n010-7777-0001\n010-7777-000\n")
    bad = cluster.cli(
        "poll", "extend-roll", big_poll, "--file", "extra.csv", "--key", str(keys / "demo-org.pem"),
        check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "row 3: a Korean mobile number" in bad.stderr
    assert "nothing was submitted" in bad.stderr and "7777" not in bad.stderr
    extra.write_text("phone\n010-7777-0001\n")
    extended = cluster.cli(
        "poll", "extend-roll", big_poll, "--file", "extra.csv", "--key", str(keys / "demo-org.pem"),
    )  # fmt: skip
    assert "roll extended with 1 entries in 1 transaction(s)" in extended.stdout
    stranger = cluster.cli(
        "poll", "extend-roll", big_poll, "--phone", "010-7777-0002", "--key", "stranger.pem",
        check=False,
    )  # fmt: skip
    assert stranger.returncode != 0
    assert "is not an active key of organisation seoul-city" in stranger.stderr

    # --- a closing time moved later by the poll's manager ----------------------------------
    before = cluster.client().get(f"/v1/polls/{poll_id}")["closes_at_ms"]
    moved = cluster.cli(
        "poll", "extend", poll_id, "--add-minutes", "30", "--key", str(keys / "demo-org.pem")
    )
    assert "accepted" in moved.stdout
    assert cluster.client().get(f"/v1/polls/{poll_id}")["closes_at_ms"] == before + 30 * 60_000
    earlier = cluster.cli(
        "poll", "extend", poll_id, "--closes-at", "2020-01-01T00:00:00+09:00",
        "--key", str(keys / "demo-org.pem"), check=False,
    )  # fmt: skip
    assert earlier.returncode != 0 and "bad_schedule" in earlier.stdout + earlier.stderr

    # --- more on-site tickets, and one of them votes ---------------------------------------
    shutil.copy(ROOT / "docs" / "examples" / "staff-poll.toml", folder / "staff.toml")
    staff = (folder / "staff.toml").read_text().replace("gangnam-office", "seoul-city")
    (folder / "staff.toml").write_text(staff)
    ticket_poll = json.loads(
        cluster.cli(
            "poll", "create", "staff.toml", "--key", str(keys / "demo-org.pem"), "--json"
        ).stdout
    )["tx"]["tx_id"]
    issued = cluster.cli(
        "poll", "tickets", ticket_poll, "--count", "2", "--out", "more.txt",
        "--key", str(keys / "demo-org.pem"),
    )  # fmt: skip
    assert "2 ticket seeds written to more.txt" in issued.stdout
    seeds = (folder / "more.txt").read_text().split()
    assert len(seeds) == 2 and (folder / "more.txt").stat().st_mode & 0o077 == 0
    cluster.cli("keygen", "staff.pem")
    ticket_vote = cluster.cli(
        "vote", ticket_poll, "--answer", "1:1", "--key", "staff.pem",
        "--password", "canteen vote for december", "--ticket", seeds[1],
    )  # fmt: skip
    assert "accepted" in ticket_vote.stdout

    # --- no number on any validator's disk, and in no log ----------------------------------
    cluster.stop()
    config = cluster.config
    numbers = [ON_ROLL, OFF_ROLL, EXTENDED, "+821020000002", "+821030000007"]
    forms = [form.encode() for n in numbers for form in all_numbers_forms(n)]
    places = [config.node_dir(n) for n in cluster.node_ids] + [config.log_dir]
    scanned = 0
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                for form in forms:
                    assert form not in data, (path, form)
    assert scanned > 10
    audit = config.attester_log_path.read_text()
    assert "roll phone ids issued: org seoul-city" in audit
