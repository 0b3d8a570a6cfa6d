"""The web app's ES modules (webapp/static/js/) loaded into a bare page, for the tests that
hold them to Python byte for byte (tests/web/test_js_*.py).

The page is served by a small HTTP server of the test's own from webapp/static/ as it is
in the tree, under the web app's own security headers (its Content-Security-Policy:
scripts from the same origin only, no eval; nosniff), so the modules and their vendored
libraries load as a browser loads them from a node, relative imports included. The
page imports every module into `window.vc`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page

from tests.cluster.harness import ROOT
from webapp.security import SECURITY_HEADERS

STATIC = ROOT / "webapp" / "static"
MODULES = (
    "bytes",
    "encoding",
    "hashing",
    "ed25519",
    "keystore",
    "tx",
    "bodies",
    "statements",
    "gatekeys",
    "chain",
    "receipt",
    "limits",
    "ballotcrypto",
)
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>modules</title>'
    '</head><body><script type="module" src="/modules.js"></script></body></html>'
)
SCRIPT = (
    "".join(f'import * as {name} from "/js/{name}.js";\n' for name in MODULES)
    + "window.vc = {"
    + ", ".join(MODULES)
    + "};\n"
    # JSON with integers beyond 2^53 (u64 nonces and times) read exactly, as bigints.
    + "window.vcParse = (text) => JSON.parse(text, (key, value, context) =>\n"
    + "  Number.isInteger(value) && !Number.isSafeInteger(value) ? BigInt(context.source)"
    + " : value);\n"
    + "window.vcReady = true;\n"
)
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html"}


class _Static(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/modules.html":
            self._send(200, "text/html; charset=utf-8", PAGE.encode())
            return
        if path == "/modules.js":
            self._send(200, "text/javascript", SCRIPT.encode())
            return
        file = (STATIC / path.lstrip("/")).resolve()
        if STATIC.resolve() not in file.parents or not file.is_file():
            self._send(404, "text/plain", b"not found")
            return
        self._send(200, TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes())

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():  # the web app's own CSP and nosniff
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def module_server() -> Iterator[str]:
    """The address of a server of webapp/static/ on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Static)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def wait_ready(page: Page) -> Page:
    page.wait_for_function("() => window.vcReady === true")
    return page


def run(page: Page, script: str, *args: Any) -> Any:
    """Evaluate `script`, an async function body with `vc` (the modules) and `args` (JSON
    read with vcParse, so big integers arrive as bigints) in scope, and return its JSON
    result parsed in Python."""
    source = (
        "async (text) => { const vc = window.vc; const args = window.vcParse(text);\n"
        f"const result = await (async () => {{ {script} }})();\n"
        "return JSON.stringify(result, (k, v) => typeof v === 'bigint' ? v.toString() : v); }"
    )
    answer = page.evaluate(source, json.dumps(list(args)))
    return None if answer is None else json.loads(answer)
