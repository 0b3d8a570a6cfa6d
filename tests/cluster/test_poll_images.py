"""Images on a real cluster (issue 14, part B): `poll create` puts each image's hash, size
and type in the poll and uploads the file once the poll commits; every validator serves
it (one that missed the upload fetches it from a peer and checks it); `poll show` checks
what it is served against the hash; uploads of the wrong bytes, of a wrong type, of more
than the poll names or of a hash no poll names are refused. A poll the chain would refuse
is refused before it is sent, naming the field."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import votingcontract
from chain.keyfile import load_key
from tests.cluster.harness import LocalCluster
from votingcontract.images import ImageRef

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0" + b"Seoul Forest" * 100
GIF = b"GIF89a" + b"\x00" * 64
NOT_UPLOADED = b"\x89PNG\r\n\x1a\n" + b"never uploaded" * 5

POLL = """
kind = "policy"
org_id = "mapo-office"
title = "Which park gets the new playground?"
duration_minutes = 60
[access]
roll_voter_keys = ["{k1}", "{k2}"]
tickets = 2
[[questions]]
text = "Which park?"
image = "photos/parks.png"
max_selections = {most}
options = [{{ text = "Hangang", image = "photos/hangang.jpg" }}, "Seoul Forest"]
"""


def _http(method: str, url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _register_org(cluster: LocalCluster) -> None:
    cluster.cli("keygen", "office.pem")
    cluster.cli(
        "org",
        "register",
        "--id",
        "mapo-office",
        "--name",
        "Mapo-gu Office",
        "--org-key",
        "office.pem",
        "--admin-key",
        str(cluster.config.keys_dir / "admin.pem"),
    )


def test_a_poll_with_images_uploads_them_and_every_node_serves_checked_bytes(
    cluster: LocalCluster,
) -> None:
    _register_org(cluster)
    photos = cluster.folder / "photos"
    photos.mkdir()
    (photos / "parks.png").write_bytes(PNG)
    (photos / "hangang.jpg").write_bytes(JPEG)
    poll_file = cluster.folder / "parks.toml"

    # Refused before anything is sent, naming the field.
    poll_file.write_text(POLL.format(k1="22" * 32, k2="33" * 32, most=3))
    refused = cluster.cli("poll", "create", "parks.toml", "--key", "office.pem", check=False)
    assert refused.returncode == 1
    assert "nothing was sent" in refused.stderr
    assert "question 1: max_selections 3 is more than its 2 options" in refused.stderr
    assert cluster.client().get("/v1/stats")["polls"] == 0

    poll_file.write_text(POLL.format(k1="22" * 32, k2="33" * 32, most=1))
    created = json.loads(
        cluster.cli("poll", "create", "parks.toml", "--key", "office.pem", "--json").stdout
    )
    assert created["receipt"]["accepted"]
    poll_id = created["tx"]["tx_id"]
    uploads = {image["file"]: image for image in created["images"]}
    assert {Path(name).name for name in uploads} == {"parks.png", "hangang.jpg"}
    assert all(image["stored"] for image in uploads.values())

    shown = json.loads(cluster.cli("poll", "show", poll_id, "--json").stdout)
    assert shown["access"]["roll_size"] == 2 and shown["access"]["tickets_issued"] == 2
    assert "roll_phone_ids" not in shown["access"]
    assert [check["verified"] for check in shown["image_checks"]] == [True, True]
    text = cluster.cli("poll", "show", poll_id, "--save-images", "saved").stdout
    assert "voter roll (2 on the roll), on-site tickets (2 issued)" in text
    png_sha, jpeg_sha = hashlib.sha256(PNG).hexdigest(), hashlib.sha256(JPEG).hexdigest()
    assert f"image {png_sha[:12]}: checked against its hash" in text
    assert (cluster.folder / "saved" / f"{png_sha}.png").read_bytes() == PNG
    assert (cluster.folder / "saved" / f"{jpeg_sha}.jpg").read_bytes() == JPEG

    for node in cluster.config.nodes:
        status, headers, body = _http("GET", f"{node.rpc_url}/v1/images/{jpeg_sha}")
        assert status == 200, (node.node_id, body)
        assert headers["Content-Type"] == "image/jpeg"
        assert "immutable" in headers["Cache-Control"]
        assert hashlib.sha256(body).hexdigest() == jpeg_sha

    # Only what a committed poll names, exactly as it names it, is taken.
    org_key = load_key(cluster.folder / "office.pem")
    gif_ref = ImageRef(hashlib.sha256(GIF).digest(), len(GIF), "image/png")
    pending = ImageRef.of_bytes(NOT_UPLOADED, "test")
    rogue = votingcontract.CreatePoll.from_dict(
        {
            "kind": "policy",
            "org_id": "mapo-office",
            "title": "Rogue",
            "opens_at_ms": 0,
            "closes_at_ms": 2**62,
            "questions": [
                {
                    "text": "Q",
                    "image": gif_ref.to_dict(),
                    "options": [{"text": "a", "image": pending.to_dict()}, "b"],
                }
            ],
        }
    )
    assert cluster.submit(cluster.sign(org_key, rogue))["receipt"]["accepted"]
    n2 = cluster.config.node("n2").rpc_url

    def put(ref: ImageRef, data: bytes) -> tuple[int, dict[str, str]]:
        status, _, body = _http("PUT", f"{n2}/v1/images/{ref.sha256.hex()}", data)
        return status, json.loads(body)

    status, answer = put(gif_ref, GIF)
    assert (status, answer["error"]) == (422, "bad_image")
    assert "not a PNG, JPEG or WebP image" in answer["message"]
    status, answer = put(pending, NOT_UPLOADED[:-1] + b"!")
    assert (status, answer["error"]) == (422, "bad_image")
    assert "do not hash to" in answer["message"]
    status, answer = put(pending, NOT_UPLOADED + b"\x00" * 5000)
    assert (status, answer["error"]) == (413, "body_too_large")
    unnamed = ImageRef.of_bytes(PNG + b"!", "test")
    status, answer = put(unnamed, PNG + b"!")
    assert (status, answer["error"]) == (404, "not_found")
    for ref in (gif_ref, pending, unnamed):
        status, _, _ = _http("GET", f"{n2}/v1/images/{ref.sha256.hex()}")
        assert status == 404
    assert not (cluster.config.node_dir("n2") / "images" / gif_ref.sha256.hex()).exists()
