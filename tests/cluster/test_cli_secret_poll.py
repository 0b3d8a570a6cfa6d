"""A secret poll through the CLI on a real cluster (issue 16): three trustees set up a
2-of-3 key, voters vote (one revotes, one audits a ballot instead of casting it), the
poll closes, one trustee's partial decryption leaves it "awaiting trustees (1 of 2)",
a second one decrypts it, and its results equal those of the same ballots in a public
poll."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from chain.keyfile import load_key
from tests.cluster.harness import LocalCluster

QUESTIONS = (
    '[[questions]]\ntext = "Chair"\noptions = ["Kim", "Lee", "Park"]\n'
    '[[questions]]\ntext = "Clubs to fund"\noptions = ["Chess", "Choir", "Robots"]\n'
    "min_selections = 0\nmax_selections = 2\n"
)
BALLOTS = [  # (voter, answers); v1 votes twice, and only its last ballot counts
    ("v1", ["1:1", "2:1,2"]),
    ("v2", ["1:2", "2:3"]),
    ("v3", ["1:2", "2:1,3"]),
    ("v1", ["1:3", "2:2"]),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("secret"))
    local.start()
    try:
        yield local
    finally:
        local.stop()


def create(cluster: LocalCluster, name: str, secret: str) -> str:
    (cluster.folder / f"{name}.toml").write_text(
        f'kind = "citizen"\ntitle = "{name}"\nopens_in_minutes = 0\nduration_minutes = 120\n'
        f'visibility = "live"\nrevote = true\n{QUESTIONS}{secret}'
    )
    created = json.loads(
        cluster.cli("poll", "create", f"{name}.toml", "--key", "creator.pem", "--json").stdout
    )
    assert created["receipt"]["accepted"], created
    return str(created["tx"]["tx_id"])


def test_trustees_set_up_voters_vote_and_two_of_three_decrypt(cluster: LocalCluster) -> None:
    trustees = []
    for j in (1, 2, 3):
        made = json.loads(cluster.cli("trustee", "init", "--out", f"t{j}.pem", "--json").stdout)
        trustees.append(made["public_key"])
    cluster.cli("keygen", "creator.pem")
    cluster.enroll_directly("+821055500000", load_key(cluster.folder / "creator.pem"))
    for n, voter in enumerate(("v1", "v2", "v3"), start=1):
        cluster.cli("keygen", f"{voter}.pem")
        cluster.enroll_directly(f"+82105550000{n}", load_key(cluster.folder / f"{voter}.pem"))
    secret = create(
        cluster, "secret", f"[secret]\ntrustees = {json.dumps(trustees)}\nthreshold = 2\n"
    )
    public = create(cluster, "public", "")

    listed = cluster.cli("poll", "list").stdout
    assert re.search(rf"{secret}.*secret", listed) and re.search(rf"{public}.*public", listed)
    early = cluster.cli("vote", secret, "--answer", "1:1", "--key", "v1.pem", check=False)
    assert early.returncode == 1 and "its key is not ready" in early.stderr

    # Key set-up: each trustee runs `trustee setup` once per phase.
    first = cluster.cli("trustee", "setup", secret, "--key", "t1.pem").stdout
    assert "trustee 1 posted its transport key: accepted" in first
    assert "awaiting trustee(s) 2, 3" in first
    waiting = cluster.cli("trustee", "setup", secret, "--key", "t1.pem").stdout
    assert "nothing to post now: awaiting the transport keys of trustee(s) 2, 3" in waiting
    for j in (2, 3):
        cluster.cli("trustee", "setup", secret, "--key", f"t{j}.pem")
    for _phase in ("dealing", "check"):
        for j in (1, 2, 3):
            posted = cluster.cli("trustee", "setup", secret, "--key", f"t{j}.pem").stdout
            assert f"trustee {j} posted its {_phase}" in posted and "accepted" in posted
    status = json.loads(cluster.cli("trustee", "status", secret, "--json").stdout)
    assert status["summary"]["phase"] == "ready" and status["summary"]["qualified"] == [1, 2, 3]
    assert "key ready" in cluster.cli("poll", "show", secret).stdout

    # Voting: the same ballots in both polls; an audit casts nothing.
    casts = []
    for voter, answers in BALLOTS:
        flags = [a for answer in answers for a in ("--answer", answer)]
        cluster.cli("vote", public, *flags, "--key", f"{voter}.pem")
        casts.append(cluster.cli("vote", secret, *flags, "--key", f"{voter}.pem").stdout)
        assert "accepted" in casts[-1]
    audited = cluster.cli(
        "vote", secret, "--answer", "1:1", "--answer", "2:3", "--key", "v2.pem", "--audit"
    ).stdout
    assert "will NOT be cast" in audited and "audit passed" in audited
    code = re.search(r"tracking code: ([A-Z2-7-]+) \(", casts[1])
    assert code is not None
    tx_id = casts[1].split("(tx ")[1].split(")")[0]
    assert f"tracking code {code.group(1)}" in cluster.cli("tx", tx_id).stdout
    found = cluster.cli("receipt", "find", code.group(1).replace("-", " ").lower()).stdout
    assert f"ballot {tx_id} in poll {secret}" in found

    cluster.cli("poll", "close", secret, "--key", "creator.pem")
    cluster.cli("poll", "close", public, "--key", "creator.pem")
    cluster.cli("trustee", "decrypt", secret, "--key", "t1.pem")
    awaiting = cluster.cli("poll", "results", secret).stdout
    assert "awaiting trustees (1 of 2)" in awaiting and "participants: 3" in awaiting
    audit = cluster.cli("verify", "--workers", "1").stdout  # an auditor's replay says the same
    assert "everything checks" in audit and "choices: secret; awaiting trustees (1 of 2)" in audit
    again = cluster.cli("trustee", "decrypt", secret, "--key", "t1.pem").stdout
    assert "nothing to post" in again
    cluster.cli("trustee", "decrypt", secret, "--key", "t3.pem")

    secret_results = json.loads(cluster.cli("poll", "results", secret, "--json").stdout)
    public_results = json.loads(cluster.cli("poll", "results", public, "--json").stdout)
    counts = [[o["count"] for o in q["options"]] for q in public_results["questions"]]
    assert counts == [[0, 2, 1], [1, 1, 2]]
    assert [[o["count"] for o in q["options"]] for q in secret_results["questions"]] == counts
    assert secret_results["choices"] == "secret" and "awaiting_trustees" not in secret_results
    shown = cluster.cli("poll", "results", secret).stdout
    assert "decrypted by the poll's trustees" in shown
    assert "choices: public" in cluster.cli("poll", "results", public).stdout
    final = json.loads(cluster.cli("trustee", "status", secret, "--json").stdout)
    assert final["summary"]["partials"] == [1, 3] and final["summary"]["decrypted"]
    replayed = json.loads(cluster.cli("verify", "--workers", "1", "--json").stdout)
    by_poll = {p["results"]["poll_id"]: p["results"] for p in replayed["polls"]}
    assert by_poll[secret]["choices"] == "secret"  # votechain verify's own decrypted counts
    assert [[o["count"] for o in q["options"]] for q in by_poll[secret]["questions"]] == counts
