"""The README's "Try it" steps, run as written against `votechain up`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.cluster.harness import ROOT, LocalCluster

README = ROOT / "README.md"


def readme_steps() -> list[list[str]]:
    block = re.search(r"## Try it.*?```sh\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no Try it block"
    steps = []
    for line in block.group(1).splitlines():
        command = line.split("#", 1)[0].strip()
        if command.startswith("votechain "):
            steps.append(shlex.split(command)[1:])
    return steps


def test_a_newcomer_enrolls_votes_and_sees_results_following_the_readme(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path)
    up = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "-c", str(cluster.config_path)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        output = []
        assert up.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = up.stdout.readline()
            output.append(line)
            if "stop with Ctrl-C" in line:
                break
        assert any("demo poll" in line for line in output), "".join(output)
        attester_url = cluster.config.attester.url
        assert any(f"attester (phone verification): {attester_url}" in ln for ln in output)
        survey = next(line.split()[2].rstrip(":") for line in output if "bike-sharing" in line)
        transcript = {}
        for step in readme_steps():
            args = [survey if word == "POLL_ID" else word for word in step]
            transcript[args[0] + (" " + args[1] if args[0] == "poll" else "")] = cluster.cli(*args)
        assert "accepted" in transcript["enroll"].stdout
        assert "accepted" in transcript["vote"].stdout
        assert survey in transcript["poll list"].stdout
        assert "2. Satisfied" in transcript["poll show"].stdout
        results = transcript["poll results"].stdout
        assert re.search(r"Satisfied\s+1\s+100\.00%", results), results
        assert "participants: 1" in results
        assert survey[:16] in transcript["history"].stdout
        rows = [line.split() for line in transcript["status"].stdout.splitlines()]
        nodes = [row for row in rows if row and row[0] in cluster.node_ids]
        assert len(nodes) == 4, transcript["status"].stdout
        assert len({(row[1], row[4], row[5]) for row in nodes}) == 1, "height and hashes agree"
        assert all(row[6] == "3/3" for row in nodes), "every node sees its three peers"
        again = cluster.cli("vote", survey, "--answer", "1:1", "--key", "me.pem", check=False)
        assert again.returncode != 0 and "duplicate" in again.stderr
        # Quick start: `up` prints the web app's address first, and the node that
        # `votechain node` started serves the survey's page there, the vote counted.
        web = next(i for i, line in enumerate(output) if line.startswith("web app: "))
        assert web < next(i for i, line in enumerate(output) if "demo poll" in line)
        web_url = output[web].split()[2]
        assert web_url == cluster.config.nodes[0].rpc_url + "/"
        with urllib.request.urlopen(f"{web_url}p/{survey[:12]}?lang=en", timeout=30) as page:
            html = page.read().decode()
        assert "bike-sharing" in html and "1 vote (100.00%)" in html
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=30) == 0
    leftover = subprocess.run(["pgrep", "-f", str(cluster.config_path)], capture_output=True)
    assert leftover.stdout == b"", "votechain up left node processes behind"
