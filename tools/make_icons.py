"""Make the web app's PNG icons from webapp/static/icon.svg: `python tools/make_icons.py`.

Run once when the icon changes; the PNGs are committed (webapp/static/icons/), so a node
never needs a browser or an image library to serve them. Phones want PNGs for the home
screen (the manifest's 192 and 512 px icons, Apple's 180 px touch icon), and Android a
"maskable" one that fills the whole square: it cuts it to a circle or squircle, keeping
only the middle 80% for sure, so that variant draws the icon's background to the edges
and the ballot box smaller, inside that safe zone.

The SVG is drawn by Debian's Chromium through Playwright (the browser tests' own tools,
tests/web/browser.py), with a transparent page so the rounded corners stay transparent,
and the PNGs are written by Pillow with its optimizer on.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402

SOURCE = ROOT / "webapp" / "static" / "icon.svg"
ICONS = ROOT / "webapp" / "static" / "icons"
SIZES = {"icon-192.png": 192, "icon-512.png": 512}
MASKABLE = {"maskable-192.png": 192, "maskable-512.png": 512}
APPLE = {"apple-touch-icon.png": 180}
"""iOS rounds the corners itself and shows transparency as black: a full square, unscaled."""
MASKABLE_SCALE = 0.8
"""The ballot box reaches 27 of the 32 units from the middle to a corner of the 64-unit
square; scaled by 0.8 it stays within the safe zone's circle (radius 0.4 x 64 = 25.6)."""


def square_svg(svg: str, scale: float) -> str:
    """The icon with its rounded background made a full square, and the rest scaled by
    `scale` about the middle (into the maskable safe zone)."""
    background = re.search(r'<rect width="64" height="64" rx="12" fill="(#[0-9a-f]{6})"/>', svg)
    if background is None:
        raise SystemExit(f"{SOURCE}: its first element is no longer the 64x64 background")
    glyph = svg[background.end() : svg.rindex("</svg>")]
    offset = 32 * (1 - scale)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" fill="{background.group(1)}"/>'
        f'<g transform="translate({offset:g} {offset:g}) scale({scale:g})">{glyph}</g>'
        "</svg>"
    )


def main() -> None:
    svg = SOURCE.read_text(encoding="utf-8")
    wanted = [(name, size, svg) for name, size in SIZES.items()]
    wanted += [(name, size, square_svg(svg, MASKABLE_SCALE)) for name, size in MASKABLE.items()]
    wanted += [(name, size, square_svg(svg, 1)) for name, size in APPLE.items()]
    ICONS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path()), args=list(CHROMIUM_ARGS), headless=True
        )
        for name, size, drawing in wanted:
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = drawing.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page.set_content(
                f"<!doctype html><html><body style='margin:0;background:transparent'>{sized}"
            )
            png = page.screenshot(
                omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size}
            )
            page.close()
            image = Image.open(io.BytesIO(png))
            image.save(ICONS / name, optimize=True)
            written = (ICONS / name).stat().st_size
            print(f"{ICONS.relative_to(ROOT) / name}: {size}x{size}, {written} bytes")
        browser.close()


if __name__ == "__main__":
    main()
