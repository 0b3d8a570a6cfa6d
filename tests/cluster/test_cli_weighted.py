"""A weighted poll with a participatory budget through the CLI, on a real cluster: the roll
is an owners' list with a weight column (turned into phone ids by the attester) plus a
proxy's voter key weighted in the poll file; `poll results` says the poll is weighted and
shows weighted votes with the ballots behind them; a ballot under the minimum spend is
refused before it is sent."""

from __future__ import annotations

import json
import re

from tests.cluster.harness import LocalCluster

POLL_FILE = """\
kind = "policy"
org_id = "apartment-101"
title = "Owners' meeting: spending the repair fund"
opens_in_minutes = 0
duration_minutes = 30

[[questions]]
text = "Approve the annual accounts?"
options = ["Yes", "No"]

[[questions]]
text = "Which repairs?"
options = [
  {{ text = "Roof", cost = 60 }},
  {{ text = "Lift", cost = 30 }},
  {{ text = "Paint", cost = 20 }},
]
min_selections = 1
max_selections = 3
budget_cap = 100
min_spend_percent = 50

[access]
roll_file = "owners.csv"
roll_voter_keys = ["{proxy}"]

[access.roll_weights]
"{proxy}" = 2
"""
OWNERS_CSV = "이름,전화번호,의결권\n김민수,010-1234-5670,3\n이지은,010-1234-5671,1\n"


def test_a_weighted_budget_poll_from_a_poll_file(cluster: LocalCluster) -> None:
    keys = cluster.config.keys_dir
    cluster.cli("keygen", "board.pem")
    cluster.cli(
        "org",
        "register",
        "--id",
        "apartment-101",
        "--name",
        "Apartment 101 owners",
        "--category",
        "civic_group",
        "--org-key",
        "board.pem",
        "--admin-key",
        str(keys / "admin.pem"),
    )
    public = {}
    for number, name in enumerate(("owner", "tenant", "proxy")):
        made = json.loads(cluster.cli("keygen", f"{name}.pem", "--json").stdout)
        public[name] = made["public_key"]
        phone = f"+82101234567{number}"  # the proxy's number is not on the owners' list
        enrolled = cluster.cli("enroll", "--phone", phone, "--key", f"{name}.pem")
        assert "accepted" in enrolled.stdout
    (cluster.folder / "owners.csv").write_text(OWNERS_CSV, encoding="utf-8")
    (cluster.folder / "repairs.toml").write_text(POLL_FILE.format(**public))
    created = json.loads(
        cluster.cli("poll", "create", "repairs.toml", "--key", "board.pem", "--json").stdout
    )
    assert created["receipt"]["accepted"], created
    poll_id = created["tx"]["tx_id"]

    # 20 of 100 is under the minimum spend of 50%
    cheap = cluster.cli(
        "vote", poll_id, "--answer", "1:1", "--answer", "2:3", "--key", "owner.pem", check=False
    )
    assert cheap.returncode != 0 and "spend at least 50% of the budget of 100" in cheap.stderr
    ballots = (("owner", ("1:1", "2:1")), ("tenant", ("1:2", "2:2,3")), ("proxy", ("1:1", "2:1,3")))
    for name, answers in ballots:
        voted = cluster.cli(
            "vote", poll_id, "--answer", answers[0], "--answer", answers[1], "--key", f"{name}.pem"
        )
        assert "accepted" in voted.stdout

    results = cluster.cli("poll", "results", poll_id).stdout
    assert "participants: 3 (total weight 6; weighted:" in results, results
    assert re.search(r"option\s+votes\s+ballots\s+share", results), results
    assert re.search(r"Yes\s+5\s+2\s+83\.33%", results), results
    assert re.search(r"No\s+1\s+1\s+16\.67%", results), results
    # by weight: roof 5, paint 3, lift 1; the lift no longer fits after roof and paint
    assert "funded within the budget of 100: Roof, Paint (total cost 80)" in results, results
    document = json.loads(cluster.cli("poll", "results", poll_id, "--json").stdout)
    assert document["weighted"] is True and document["participant_weight"] == 6
    roof = document["questions"][1]["options"][0]
    assert (roof["count"], roof["ballots"]) == (5, 2)
