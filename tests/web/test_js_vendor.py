"""The libraries the browser modules vendor (webapp/static/vendor/) are released npm
packages kept unchanged, each with its licence, its version and where it came from: a
file edited by hand, or one added without its checksum, fails here. The one change
allowed is a library's imports of its dependency by package name pointed at the vendored
copy (a browser without an import map cannot resolve a package name); it is undone
before the checksum, so nothing else may differ from the release."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.cluster.harness import ROOT

VENDOR = ROOT / "webapp" / "static" / "vendor"
LIBRARIES = {
    "msgpack-3.1.3": ("@msgpack/msgpack", "3.1.3", "ISC"),
    "noble-ed25519-3.2.0": ("@noble/ed25519", "3.2.0", "MIT"),
    "noble-hashes-2.4.0": ("@noble/hashes", "2.4.0", "MIT"),
    "noble-curves-2.4.0": ("@noble/curves", "2.4.0", "MIT"),
}
REWRITTEN_IMPORTS = {
    "noble-curves-2.4.0": (
        re.compile(rb"from '(?:\.\./)+noble-hashes-2\.4\.0/"),
        b"from '@noble/hashes/",
    ),
}
"""Per library: the vendored dependency's relative import and the released import by
package name it stands for (SOURCE.txt says why)."""


def as_released(folder: str, data: bytes) -> bytes:
    if folder not in REWRITTEN_IMPORTS:
        return data
    pattern, released = REWRITTEN_IMPORTS[folder]
    return pattern.sub(released, data)


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
        actual = hashlib.sha256(as_released(folder, Path(root / path).read_bytes())).hexdigest()
        assert actual == digest, f"{folder}/{path} differs from the released file"


def test_the_curves_import_their_hashes_from_the_vendored_release_and_nothing_by_name() -> None:
    root = VENDOR / "noble-curves-2.4.0"
    imports = [
        line
        for path in sorted(root.rglob("*.js"))
        for line in path.read_text().splitlines()
        if line.startswith(("import ", "export ")) and " from " in line
    ]
    assert imports and not [line for line in imports if "@noble/" in line]
    rewritten = [line for line in imports if "noble-hashes-2.4.0/" in line]
    assert len(rewritten) == 4
    for line in rewritten:
        target = line.rsplit("noble-hashes-2.4.0/", 1)[1].split("'")[0]
        assert (VENDOR / "noble-hashes-2.4.0" / target).is_file()
