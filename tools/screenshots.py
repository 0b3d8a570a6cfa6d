"""Pictures of the web app for the README: `make screenshots` (= python tools/screenshots.py).

Starts a one-validator cluster of its own in a temporary folder, seeded as the browser
tests seed theirs (tests/web/conftest.py: the demo polls of `make up`, ballots, a poll
closed early), opens the main pages in Debian's Chromium at a phone's and a PC's size,
and writes docs/screenshots/<page>-<phone|desktop>.png with docs/screenshots/README.md,
which names the commit the pictures were made at (and says so when the web app had
uncommitted changes), so a picture older than the pages cannot pass for them.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster.harness import LocalCluster  # noqa: E402
from tests.web.browser import CHROMIUM_ARGS, DESKTOP, PHONE, chromium_path  # noqa: E402
from tests.web.conftest import WebApp, _seed  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = {
    "polls": ("/", "The poll list: open, upcoming and closed polls, search and filters"),
    "poll": ("/p/{survey}", "A poll's page: the vote, its results as bars, its QR code"),
    "budget": ("/p/{budget}", "A participatory budget: costs, the cap and the funded projects"),
    "stats": ("/stats", "Operating statistics"),
    "enroll": ("/enroll", "Verifying a phone number, which makes this browser's voting key"),
    "new": ("/new", "Creating a citizen poll"),
    "me": ("/me", "My votes, with each ballot's receipt check"),
    "receipt": ("/r/{survey_tx}", "A receipt checked in the browser, each check in words"),
}
ON_A_PC = ("polls", "poll", "stats")
"""Every page at a phone's size, these at a PC's too: the pictures are committed."""


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def made_at() -> str:
    commit = git("rev-parse", "--short=12", "HEAD")
    changed = git("status", "--porcelain", "--", "webapp")
    return commit + (" with uncommitted changes to webapp/" if changed else "")


def small(png: Path) -> None:
    """256 colours, which flat pages and their text keep well, at a third of the bytes:
    the pictures are committed."""
    image = Image.open(png).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        png, optimize=True
    )


def shoot(app: WebApp) -> list[tuple[str, str, str]]:
    """(file, page, what it shows) for every picture written."""
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path()), args=list(CHROMIUM_ARGS), headless=True
        )
        for name, (path, what) in PAGES.items():
            url = app.url + path.format(
                survey=app.survey_id[:12], budget=app.budget_id[:12], survey_tx=app.survey_id
            )
            for viewport in (PHONE, DESKTOP) if name in ON_A_PC else (PHONE,):
                context = browser.new_context(
                    viewport={"width": viewport.width, "height": viewport.height},
                    is_mobile=viewport.is_mobile,
                    has_touch=viewport.has_touch,
                    locale="ko-KR",
                    timezone_id="Asia/Seoul",
                    service_workers="block",
                )
                page = context.new_page()
                reply = page.goto(url)
                if reply is None or reply.status != 200:
                    print(f"skipped {path}: {reply.status if reply else 'no answer'}")
                    context.close()
                    break
                page.wait_for_load_state("networkidle")  # the receipt check runs
                file = f"{name}-{viewport.name}.png"
                page.screenshot(path=str(OUT / file), full_page=True, scale="css")
                context.close()
                small(OUT / file)
                written.append((file, path.split("{")[0] or "/", what))
        browser.close()
    return written


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    stamp = made_at()
    with tempfile.TemporaryDirectory(prefix="votechain-screenshots-") as folder:
        cluster = LocalCluster(Path(folder), node_count=1)
        cluster.start()
        try:
            written = shoot(_seed(cluster))
        finally:
            cluster.stop()
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [
        "# Screenshots of the web app",
        "",
        f"Made by `make screenshots` at commit **{stamp}** on {today}.",
        "",
        f"In Korean, at a phone's size ({PHONE.width}x{PHONE.height}) and a PC's"
        f" ({DESKTOP.width}x{DESKTOP.height}), from a cluster seeded with the demo polls and",
        "a few ballots.",
        "They show the pages as that commit served them: a page changed since may look",
        "different. Run `make screenshots` again to see it as it is now; the browser tests",
        "also leave pictures of every page they check in `build/screenshots/`.",
        "",
        "| page | phone | PC |",
        "| --- | --- | --- |",
    ]
    by_page: dict[str, list[tuple[str, str, str]]] = {}
    for file, path, what in written:
        by_page.setdefault(file.rsplit("-", 1)[0], []).append((file, path, what))
    for shots in by_page.values():
        _, path, what = shots[0]
        cells = " | ".join([f"[{file}]({file})" for file, _, _ in shots] + [""] * (2 - len(shots)))
        lines.append(f"| `{path}`: {what} | {cells} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)}, made at {stamp}")


if __name__ == "__main__":
    main()
