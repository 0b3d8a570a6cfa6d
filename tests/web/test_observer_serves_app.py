"""An observer started by `votechain observer` serves the web app too: a city puts its
observers, not its validators, in front of the public (OPERATIONS.md "Web app")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from node.config import load_config
from tests.cluster.harness import ROOT, LocalCluster, free_port
from webapp.security import CONTENT_SECURITY_POLICY

START_TIMEOUT_S = 60


def test_votechain_observer_serves_the_web_app_at_its_root(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path, node_count=1)
    port = free_port()
    with open(cluster.config_path, "a", encoding="utf-8") as toml:
        toml.write(f'\n[[observers]]\nid = "o1"\nrpc_port = {port}\n')
    url = load_config(cluster.config_path).observer("o1").rpc_url
    # No validator runs: the observer serves what it holds (genesis) and keeps asking.
    command = ["observer", "-c", str(cluster.config_path), "--id", "o1", "--log-file", "-"]
    observer = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *command],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        request = urllib.request.Request(f"{url}/", headers={"Accept-Language": "en"})
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    html = response.read().decode()
                    headers = response.headers
                break
            except urllib.error.HTTPError:
                raise  # served, but not the web app
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the observer did not start serving"
                time.sleep(0.2)
        assert '<html lang="en">' in html and "<h1>Polls</h1>" in html
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    finally:
        observer.send_signal(signal.SIGINT)
        assert observer.wait(timeout=30) == 0
