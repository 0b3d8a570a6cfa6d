"""The libraries the browser modules vendor (webapp/static/vendor/) are released npm
packages kept unchanged, each with its licence, its version and where it came from: a
file edited by hand, or one added without its checksum, fails here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.cluster.harness import ROOT

VENDOR = ROOT / "webapp" / "static" / "vendor"
LIBRARIES = {
    "msgpack-3.1.3": ("@msgpack/msgpack", "3.1.3", "ISC"),
    "noble-ed25519-3.2.0": ("@noble/ed25519", "3.2.0", "MIT"),
    "noble-hashes-2.4.0": ("@noble/hashes", "2.4.0", "MIT"),
}


@pytest.mark.parametrize("folder", sorted(LIBRARIES))
def test_a_vendored_library_is_its_release_unchanged_with_licence_and_source(
    folder: str,
) -> None:
    name, version, licence = LIBRARIES[folder]
    root = VENDOR / folder
    package = json.loads((root / "package.json").read_text())
    assert (package["name"], package["version"], package["license"]) == (name, version, licence)
    assert (root / "LICENSE").stat().st_size > 0
    source = (root / "SOURCE.txt").read_text()
    assert f"npm pack {name}@{version}" in source and "integrity sha512-" in source
    listed = {}
    for line in (root / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split("  ", 1)
        listed[path] = digest
    present = {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.name not in ("SOURCE.txt", "SHA256SUMS")
    }
    assert present == set(listed), "files added or removed without SHA256SUMS"
    for path, digest in listed.items():
        actual = hashlib.sha256(Path(root / path).read_bytes()).hexdigest()
        assert actual == digest, f"{folder}/{path} differs from the released file"
