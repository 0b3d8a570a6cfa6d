"""Images on questions and options: what the chain holds of them, and how bytes are judged.

    image = [sha256: hash, size: u64 1..MAX_IMAGE_BYTES, type: str]

The chain holds only this reference; nodes keep the bytes apart from blocks and serve
them (node/images.py), and every reader checks what it is served with `image_problem`.
The type is read from the bytes' first bytes (their "magic"), never from a file name
or a Content-Type a client sent, so a node serves only what it can label truthfully.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from chain import encoding
from votingcontract import dicts, limits
from votingcontract.body_base import expect_choice, expect_hash

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


def sniff_type(data: bytes) -> str | None:
    """The image type the bytes start like, or None if none of PNG, JPEG, WebP."""
    if data.startswith(_PNG):
        return "image/png"
    if data.startswith(_JPEG):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class ImageRef:
    """An image as a poll names it: its SHA-256, its size in bytes and its type."""

    sha256: bytes
    size: int
    type: str

    def to_value(self) -> list[Any]:
        return [self.sha256, self.size, self.type]

    @classmethod
    def from_value(cls, value: Any, what: str) -> ImageRef:
        f = encoding.expect_list(value, 3, what)
        return cls(
            expect_hash(f[0], f"{what}.sha256"),
            encoding.expect_int(f[1], f"{what}.size", 1, limits.MAX_IMAGE_BYTES),
            expect_choice(f[2], f"{what}.type", IMAGE_TYPES),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256.hex(), "size": self.size, "type": self.type}

    @classmethod
    def parse_dict(cls, d: Any, what: str) -> ImageRef:
        dicts.check_keys(d, ("sha256", "size", "type"), f"{what}.")
        return cls(
            dicts.as_hex(dicts.field(d, "sha256", what), f"{what}.sha256", 32),
            dicts.as_int(dicts.field(d, "size", what), f"{what}.size"),
            dicts.as_str(dicts.field(d, "type", what), f"{what}.type"),
        )

    @classmethod
    def of_bytes(cls, data: bytes, what: str) -> ImageRef:
        """The reference for an image file's bytes; ValueError if they cannot be one."""
        problem = bytes_problem(data)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")
        kind = sniff_type(data)
        assert kind is not None  # bytes_problem checked it
        return cls(hashlib.sha256(data).digest(), len(data), kind)


def bytes_problem(data: bytes) -> str | None:
    """Why `data` cannot be a poll image at all (size, type), or None."""
    if not data:
        return "the image is empty"
    if len(data) > limits.MAX_IMAGE_BYTES:
        return f"the image is {len(data):,} bytes; the limit is {limits.MAX_IMAGE_BYTES:,}"
    if sniff_type(data) is None:
        return "not a PNG, JPEG or WebP image (checked by its first bytes)"
    return None


def image_problem(ref: ImageRef, data: bytes) -> str | None:
    """Why `data` is not the image `ref` names, or None: what a node checks before it
    stores an upload and what a client checks before it shows what it was served."""
    problem = bytes_problem(data)
    if problem is not None:
        return problem
    if len(data) != ref.size:
        return f"the image is {len(data):,} bytes; the poll names {ref.size:,}"
    if hashlib.sha256(data).digest() != ref.sha256:
        return f"the bytes do not hash to {ref.sha256.hex()}"
    kind = sniff_type(data)
    if kind != ref.type:
        return f"the bytes are {kind}; the poll names {ref.type}"
    return None
