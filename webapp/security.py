"""The headers every web app answer carries, and how long browsers may keep what.

The Content-Security-Policy allows only this node's own scripts, styles, images and
connections: no inline script or style, no other origin, no plugin, no framing. A page
that an attacker manages to inject text into still cannot run it, and the app can be put
behind any domain because it names none.
"""

from __future__ import annotations

from collections.abc import Mapping

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # A poll link shared onward must not carry a QR secret or a search in its Referer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # Geolocation for area-limited polls and the camera for scanning tickets, only here.
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()",
}
HSTS = "max-age=31536000"
"""Sent only over TLS: a node behind plain HTTP must not pin browsers to https."""
PAGE_CACHE = "no-cache"
"""Pages show live counts and statuses: a browser revalidates every time."""
STATIC_CACHE = "no-cache"
"""Static files are revalidated on each use (a 304 while unchanged: aiohttp answers
If-None-Match and If-Modified-Since). The ES modules import each other by plain relative
URLs (no build step to put hashes in them, and an import map would be an inline script,
which the CSP forbids), so a browser keeping them for a while could run a new release's
page script with an old module and break. Repeat visits cost no download: the service
worker (webapp/shell.py) serves the whole shell from its cache, versioned as one."""
