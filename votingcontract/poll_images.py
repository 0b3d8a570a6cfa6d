"""create_poll's rules for images, and the image index in state.

    image/<sha256> = [size, type]   written by the first accepted poll that names it

A hash fixes the bytes, so it fixes their size and type too: a poll naming a known hash
with another size or type names an image nobody can ever serve, and is refused. The
index is what a node reads to decide whether an upload is wanted (node/images.py): only
bytes some committed poll names are stored, so strangers cannot fill a node's disk.
"""

from __future__ import annotations

from chain import encoding
from chain.errors import DecodeError
from chain.state import OverlayState, StateView
from votingcontract import limits, state_keys
from votingcontract.images import IMAGE_TYPES, ImageRef
from votingcontract.poll_spec import CreatePoll
from votingcontract.reasons import ReasonCode, Refused


def validate_poll_images(body: CreatePoll) -> None:
    """invalid_poll unless each hash is named with one size and type, and the distinct
    images' sizes add up to at most the cap of the poll's kind."""
    named: dict[bytes, tuple[str, ImageRef]] = {}
    for where, ref in body.images():
        first = named.setdefault(ref.sha256, (where, ref))
        if first[1] != ref:
            raise Refused(
                ReasonCode.INVALID_POLL,
                f"{where}: image {ref.sha256.hex()[:16]} is named with size {ref.size} and "
                f"type {ref.type}, but {first[0]} names it with size {first[1].size} and "
                f"type {first[1].type}",
            )
    cap = limits.MAX_POLL_IMAGE_BYTES_POLICY
    if body.kind == "citizen":
        cap = limits.MAX_POLL_IMAGE_BYTES_CITIZEN
    total = sum(ref.size for _, ref in named.values())
    if total > cap:
        raise Refused(
            ReasonCode.INVALID_POLL,
            f"images: {total:,} bytes in all; a {body.kind} poll may name at most {cap:,}",
        )


def validate_image_index(state: StateView, body: CreatePoll) -> None:
    """invalid_poll if an image is already indexed with another size or type."""
    for where, ref in body.images():
        known = read_image(state, ref.sha256)
        if known is not None and known != ref:
            raise Refused(
                ReasonCode.INVALID_POLL,
                f"{where}: image {ref.sha256.hex()[:16]} is on the chain with size "
                f"{known.size} and type {known.type}, not {ref.size} and {ref.type}",
            )


def process_image_index(state: OverlayState, body: CreatePoll) -> None:
    """image/<sha256> = [size, type] for each image the poll names that is not indexed."""
    for _, ref in body.images():
        key = state_keys.image(ref.sha256)
        if state.get(key) is None:
            state.set(key, encoding.encode([ref.size, ref.type]))


def read_image(state: StateView, sha256: bytes) -> ImageRef | None:
    """The image a committed poll names under this hash, or None."""
    data = state.get(state_keys.image(sha256))
    if data is None:
        return None
    f = encoding.expect_list(encoding.decode(data), 2, "image record")
    size = encoding.expect_int(f[0], "image record size", 1, limits.MAX_IMAGE_BYTES)
    kind = encoding.expect_str(f[1], "image record type", 16)
    if kind not in IMAGE_TYPES:
        raise DecodeError(f"image record type: {kind!r}")
    return ImageRef(sha256, size, kind)
