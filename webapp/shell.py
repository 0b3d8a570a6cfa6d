"""The installable app shell: the service worker at /sw.js and the page it shows offline.

A service worker controls only the paths below its own URL, so it is served from the
root (/sw.js), not from /static/. What it keeps for offline use is named here, where the
files are, and written into the script as its first line (`const SHELL = {...}`):

- `version`: a hash of every file the shell is made of (static files, templates,
  catalogues). Any change to any of them is a new version, so the browser, which
  compares the script byte for byte on each visit, installs the new worker, which
  fetches the whole shell again and deletes the old caches: a release never leaves a
  phone with half old and half new files.
- `files`: the static files to keep, by the URLs the pages use (the stylesheet's
  carries its hash).
- `pages`: the pages to keep from the start: the offline page, and the citizen's history
  page where the web app has one (it reads the saved receipts from IndexedDB, so it
  works offline once its page is kept).
- `rpc`: the one RPC answer kept, for when the node cannot be reached: the chain's
  genesis, which never changes for a chain, and without which no receipt is checked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from webapp.routes import WebApp

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
WORKER = STATIC_DIR / "sw.js"
OFFLINE_PAGE = "/offline"
HISTORY_PAGES = ("/me", "/history")
"""The citizen's own pages, kept offline if the web app has them."""
KEPT_RPC = ("/v1/genesis",)
"""RPC answers that never change for a chain: the worker answers them from its copy
when the node cannot be reached. Every other /v1/ answer is live or fails."""
SHELL_SUFFIXES = (".css", ".js", ".mjs", ".svg", ".png", ".webmanifest")
"""What a page loads; the vendored libraries' licences and checksums stay out."""
VERSIONED = ("static", "templates", "locale")
"""The folders whose files make up a version of the shell."""


def add_shell_routes(app: web.Application, site: WebApp) -> None:
    """Serve /sw.js and /offline on `app`, beside `site`'s pages."""
    shell = Shell(site)
    app.add_routes([web.get("/sw.js", shell.worker), web.get(OFFLINE_PAGE, shell.offline)])


def shell_version(root: Path = PACKAGE_DIR) -> str:
    """A hash of every file of VERSIONED, names and contents."""
    digest = hashlib.sha256()
    for folder in VERSIONED:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def shell_files(stylesheet_url: str, static_dir: Path = STATIC_DIR) -> list[str]:
    """The static files' URLs, the stylesheet's as the pages name it."""
    stylesheet = stylesheet_url.split("?", 1)[0]
    urls = []
    for path in sorted(static_dir.rglob("*")):
        if path.is_file() and path.suffix in SHELL_SUFFIXES and path != WORKER:
            url = "/static/" + path.relative_to(static_dir).as_posix()
            urls.append(stylesheet_url if url == stylesheet else url)
    return urls


class Shell:
    def __init__(self, site: WebApp) -> None:
        self.site = site
        self.version = shell_version()
        self.files = shell_files(site.stylesheet_url)
        self.worker_code = WORKER.read_text(encoding="utf-8")

    async def worker(self, request: web.Request) -> web.Response:
        """The service worker, with what it keeps. `no-cache` (the web app's middleware
        gives every non-static answer that) makes the browser ask for it on each visit."""
        shell: dict[str, Any] = {
            "version": self.version,
            "files": self.files,
            "pages": [OFFLINE_PAGE, *self._history_pages(request.app)],
            "rpc": list(KEPT_RPC),
        }
        code = f"const SHELL = {json.dumps(shell, separators=(',', ':'))};\n{self.worker_code}"
        return web.Response(text=code, content_type="text/javascript", charset="utf-8")

    async def offline(self, request: web.Request) -> web.Response:
        """What the worker shows for a page it did not keep, when the node cannot be
        reached. Kept in the language of the visit that installed the worker."""
        return self.site._page(request, "offline.html")

    @staticmethod
    def _history_pages(app: web.Application) -> list[str]:
        routes = {resource.canonical for resource in app.router.resources()}
        return [page for page in HISTORY_PAGES if page in routes]
