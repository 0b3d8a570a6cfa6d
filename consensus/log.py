"""The message log: per-height slots inside the watermark window, and checkpoints.

Castro & Liskov keep every message in a log, accept sequence numbers only between the
low watermark h (the last stable checkpoint) and h + L, and discard everything at or
below a checkpoint once it is stable (sections 4.2 and 4.3). Here a sequence number is a
block height, and the log keeps, per height, exactly what the rules need:

- the pre-prepare accepted in the current view, and whether it was checked;
- one prepare per replica in the current view, one commit per replica (its latest view);
- this replica's own prepare and commit, for retransmission;
- the highest-view prepared certificate (what a ViewChange reports);
- a commit certificate once one is known, and a few candidate blocks by hash.

Every collection here is bounded by n (replicas) or by the window L, so memory stays flat
however long the chain runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chain.block import Block
from chain.certificate import CommitCertificate
from consensus.messages import Checkpoint, Commit, Prepare, PreparedCertificate, PrePrepare
from consensus.quorum import Quorum
from consensus.types import Height, ReplicaId, View

MAX_BLOCKS_PER_SLOT = 4
"""Candidate blocks remembered per height (an equivocating primary could offer many)."""


def _later_commit(new: Commit, old: Commit) -> bool:
    return new.view > old.view


def _later_checkpoint(new: Checkpoint, old: Checkpoint) -> bool:
    return new.height > old.height


@dataclass
class Slot:
    """Everything the log holds about one height."""

    height: Height
    quorum: int
    pre_prepare: PrePrepare | None = None
    reproposal: bool = False
    """The pre-prepare came from a NewView, backed by a prepared certificate."""
    checked: bool = False
    """The pre-prepare passed the proposal checks (link, proposer, timestamp, app)."""
    rejected: str | None = None
    own_prepare: Prepare | None = None
    own_commit: Commit | None = None
    prepared: PreparedCertificate | None = None
    certificate: CommitCertificate | None = None
    prepares: Quorum[bytes, Prepare] = field(init=False)
    commits: Quorum[tuple[View, bytes], Commit] = field(init=False)
    blocks: dict[bytes, Block] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.prepares = Quorum(self.quorum - 1)
        self.commits = Quorum(self.quorum)

    def add_prepare(self, prepare: Prepare) -> bool:
        return self.prepares.add(prepare.replica, prepare.block_hash, prepare)

    def add_commit(self, commit: Commit) -> bool:
        return self.commits.add(
            commit.replica, (commit.view, commit.block_hash), commit, _later_commit
        )

    def add_block(self, block: Block) -> None:
        if block.block_hash in self.blocks:
            return
        if len(self.blocks) >= MAX_BLOCKS_PER_SLOT:
            del self.blocks[next(iter(self.blocks))]
        self.blocks[block.block_hash] = block

    def reset_view(self) -> None:
        """Forget what belongs to the view being left; keep what outlives views."""
        self.pre_prepare = None
        self.reproposal = False
        self.checked = False
        self.rejected = None
        self.own_prepare = None
        self.own_commit = None
        self.prepares.clear()


class MessageLog:
    """Slots for heights in (low, low + L] and the latest checkpoint of each replica."""

    def __init__(self, watermark_window: int, quorum: int) -> None:
        self.window = watermark_window
        self.quorum = quorum
        self.low = Height(0)
        """The low watermark: the height of the last stable checkpoint."""
        self.stable_proof: tuple[Checkpoint, ...] = ()
        self._slots: dict[Height, Slot] = {}
        self._checkpoints: Quorum[tuple[Height, bytes], Checkpoint] = Quorum(quorum)

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def high(self) -> Height:
        return Height(self.low + self.window)

    def in_window(self, height: int) -> bool:
        return self.low < height <= self.low + self.window

    def get(self, height: int) -> Slot | None:
        return self._slots.get(Height(height))

    def slot(self, height: Height) -> Slot:
        """The slot for `height`, created if needed; `height` must be in the window."""
        assert self.in_window(height), f"height {height} outside ({self.low}, {self.high}]"
        slot = self._slots.get(height)
        if slot is None:
            slot = self._slots[height] = Slot(height, self.quorum)
        return slot

    def slots(self) -> list[Slot]:
        return [self._slots[h] for h in sorted(self._slots)]

    def reset_view(self) -> None:
        for slot in self._slots.values():
            slot.reset_view()

    def add_checkpoint(self, checkpoint: Checkpoint) -> Height | None:
        """File a checkpoint; return the height of a newly stable checkpoint, if any.

        A checkpoint is stable once a quorum of replicas sent matching ones (section 4.3).
        Only each replica's latest checkpoint is kept.
        """
        value = (checkpoint.height, checkpoint.block_hash)
        if not self._checkpoints.add(checkpoint.replica, value, checkpoint, _later_checkpoint):
            return None
        stable = [v for v in self._checkpoints.values_reaching() if v[0] > self.low]
        if not stable:
            return None
        best = max(stable)
        self.stable_proof = tuple(self._checkpoints.messages_for(best)[: self.quorum])
        return best[0]

    def checkpoint_of(self, replica: ReplicaId) -> Checkpoint | None:
        return self._checkpoints.get(replica)

    def collect_garbage(self, stable_height: Height) -> None:
        """Make `stable_height` the low watermark and drop every slot at or below it."""
        if stable_height <= self.low:
            return
        self.low = stable_height
        for height in [h for h in self._slots if h <= stable_height]:
            del self._slots[height]
