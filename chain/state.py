"""Key-value state as the voting state machine sees it, and the app hash chain.

State is a map from byte keys to byte values. The state machine reads through a
`StateView` and writes into an `OverlayState`, so one block's writes can be kept,
hashed and stored atomically, and one refused transaction's writes thrown away.

write set of a block   = its writes sorted by key: [[key, value or nil], ...]
write_set_hash(writes) = tagged_hash(WRITE_SET, encode(write set))
app_hash(h)            = tagged_hash(APP_HASH, app_hash(h-1) || write_set_hash(writes of h))
app_hash(-1)           = 32 zero bytes; "height 0" is the state genesis creates.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from chain import encoding
from chain.hashing import HASH_SIZE, Domain, tagged_hash

ZERO_HASH = bytes(HASH_SIZE)

WriteSet = list[tuple[bytes, bytes | None]]
"""A block's state writes, sorted by key; None deletes the key."""


class StateView(Protocol):
    """Read access to state: point reads and ordered prefix scans."""

    def get(self, key: bytes) -> bytes | None: ...

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs whose key starts with `prefix`, in ascending key order."""
        ...


class MemoryState:
    """State held in a dict, with its keys kept sorted so a prefix scan costs
    O(log n + matches): for replay of long chains, simulations and tests.

    Keys new since the last scan wait unsorted in `_added` and are merged into `_keys`
    when a scan needs them: inserting each into a sorted list of a few hundred thousand
    keys moved the list's tail every time, the bulk of a long replay's state writes.
    """

    def __init__(self, initial: Mapping[bytes, bytes] | None = None) -> None:
        self._data: dict[bytes, bytes] = dict(initial or {})
        self._keys: list[bytes] = sorted(self._data)
        self._added: set[bytes] = set()
        """Keys in _data but not yet in _keys."""

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        keys = self._sorted_keys()
        start = bisect.bisect_left(keys, prefix)
        matches = []
        for key in itertools.islice(keys, start, None):
            if not key.startswith(prefix):
                break
            matches.append(key)
        for key in matches:
            yield key, self._data[key]

    def apply(self, writes: Iterable[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            if value is None:
                if self._data.pop(key, None) is not None:
                    if key in self._added:
                        self._added.discard(key)
                    else:
                        del self._keys[bisect.bisect_left(self._keys, key)]
            else:
                if key not in self._data:
                    self._added.add(key)
                self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)

    def _sorted_keys(self) -> list[bytes]:
        if self._added:
            # Two sorted runs: Python's sort merges them in linear time.
            self._keys.extend(sorted(self._added))
            self._keys.sort()
            self._added.clear()
        return self._keys


class OverlayState:
    """Pending writes on top of a base view; reads see the writes first.

    Overlays nest: the state machine gives each transaction a child overlay of the
    block's overlay and calls `commit()` only when the transaction is accepted.
    """

    def __init__(self, base: StateView) -> None:
        self._base = base
        self._writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        return self._base.get(key)

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        pending = {k: v for k, v in self._writes.items() if k.startswith(prefix)}
        merged: dict[bytes, bytes | None] = {k: v for k, v in self._base.items(prefix)}
        merged.update(pending)
        for key in sorted(merged):
            value = merged[key]
            if value is not None:
                yield key, value

    def set(self, key: bytes, value: bytes) -> None:
        self._writes[key] = value

    def delete(self, key: bytes) -> None:
        self._writes[key] = None

    def child(self) -> OverlayState:
        return OverlayState(self)

    def commit(self) -> None:
        """Move this overlay's writes into its base, which must be an OverlayState."""
        if not isinstance(self._base, OverlayState):
            raise TypeError("commit() needs an OverlayState underneath")
        self._base._writes.update(self._writes)
        self._writes = {}

    def write_set(self) -> WriteSet:
        return sorted(self._writes.items())


def write_set_hash(writes: WriteSet) -> bytes:
    ordered = sorted(writes, key=operator.itemgetter(0))
    return tagged_hash(Domain.WRITE_SET, encoding.encode_pairs(ordered))


def next_app_hash(previous_app_hash: bytes, writes: WriteSet) -> bytes:
    """One link of the app hash chain."""
    return tagged_hash(Domain.APP_HASH, previous_app_hash + write_set_hash(writes))
