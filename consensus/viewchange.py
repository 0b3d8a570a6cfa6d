"""View changes: validity of ViewChange and NewView, and what a NewView must re-propose.

Castro & Liskov, section 4.4 (TOCS'02 section 4.5). The primary of view v+1 collects a
quorum of valid ViewChange messages for v+1 and computes, from them alone:

- min-s: the highest commit certificate any of them carries (our per-block replacement
  for the paper's latest stable checkpoint, ADR 003). Blocks up to min-s are committed;
- for every height h above min-s for which some ViewChange carries a prepared
  certificate, the block of the certificate with the highest view: re-proposed unchanged
  in a new pre-prepare of view v+1;
- max-s (the view's floor): the highest height so decided; fresh proposals in v+1 start
  above it.

Every replica recomputes the same plan from the NewView's view changes and refuses a
NewView whose re-proposals differ. With one block in flight the heights above min-s that
hold prepared certificates are contiguous and at most one (ADR 003); a gap would need the
paper's null request, so a set of view changes with a gap is refused rather than filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chain.block import Block
from chain.certificate import CommitCertificate
from chain.keys import PrivateKey
from consensus.errors import InvalidMessage
from consensus.messages import (
    MAX_PREPARED_PER_VIEW_CHANGE,
    NewView,
    PreparedCertificate,
    PrePrepare,
    ViewChange,
    sign,
)
from consensus.signatures import SignatureVerifier
from consensus.types import Height, ReplicaConfig, View


@dataclass(frozen=True)
class NewViewPlan:
    """What a quorum of view changes decides for the new view."""

    view: View
    anchor: CommitCertificate | None
    """The highest commit certificate among the view changes (min-s is its height)."""
    reproposals: tuple[tuple[Height, Block], ...]
    floor: Height
    """max-s: fresh pre-prepares in this view must be for heights above it."""


def check_prepared_certificate(
    certificate: PreparedCertificate, config: ReplicaConfig, verifier: SignatureVerifier
) -> None:
    """Raise InvalidMessage unless the certificate proves a quorum prepared its block."""
    certificate.validate_basic()
    primary = config.primary_of(certificate.view)
    if certificate.pre_prepare.replica != primary:
        raise InvalidMessage(
            f"prepared certificate h={certificate.height}: pre-prepare by "
            f"r{certificate.pre_prepare.replica}, view {certificate.view} is led by r{primary}"
        )
    if not verifier.verify_message(certificate.pre_prepare):
        raise InvalidMessage(f"prepared certificate h={certificate.height}: bad pre-prepare")
    if len(certificate.prepares) < config.quorum - 1:
        raise InvalidMessage(
            f"prepared certificate h={certificate.height} has {len(certificate.prepares)} "
            f"prepares, needs {config.quorum - 1}"
        )
    for prepare in certificate.prepares:
        if not verifier.verify_message(prepare):
            raise InvalidMessage(
                f"prepared certificate h={certificate.height}: bad prepare from r{prepare.replica}"
            )


def check_view_change(
    view_change: ViewChange, config: ReplicaConfig, verifier: SignatureVerifier
) -> None:
    """Raise InvalidMessage unless `view_change` is well-formed, signed and its proofs hold."""
    view_change.validate_basic()
    if not verifier.verify_message(view_change):
        raise InvalidMessage(f"view-change from r{view_change.replica}: bad signature")
    if view_change.committed is not None:
        reason = verifier.check_certificate(view_change.committed)
        if reason is not None:
            raise InvalidMessage(f"view-change from r{view_change.replica}: {reason}")
    if len(view_change.prepared) > MAX_PREPARED_PER_VIEW_CHANGE:
        # One block in flight: a correct replica prepares only the height above its last
        # delivered block. The cap bounds a NewView's size (messages.max_message_bytes).
        raise InvalidMessage(
            f"view-change from r{view_change.replica} carries "
            f"{len(view_change.prepared)} prepared certificates, at most "
            f"{MAX_PREPARED_PER_VIEW_CHANGE}"
        )
    for certificate in view_change.prepared:
        check_prepared_certificate(certificate, config, verifier)


def plan_new_view(view: View, view_changes: Sequence[ViewChange]) -> NewViewPlan:
    """The re-proposals that `view_changes` decide (see the module docstring)."""
    anchor: CommitCertificate | None = None
    for vc in view_changes:
        cert = vc.committed
        if cert is not None and (
            anchor is None or (cert.height, cert.view) > (anchor.height, anchor.view)
        ):
            anchor = cert
    min_s = Height(0 if anchor is None else anchor.height)
    best: dict[Height, PreparedCertificate] = {}
    for vc in sorted(view_changes, key=lambda v: v.replica):
        for certificate in vc.prepared:
            if certificate.height <= min_s:
                continue
            held = best.get(certificate.height)
            if held is None or (certificate.view, certificate.block_hash) > (
                held.view,
                held.block_hash,
            ):
                best[certificate.height] = certificate
    heights = sorted(best)
    if heights != list(range(min_s + 1, min_s + 1 + len(heights))):
        raise InvalidMessage(
            f"view changes for view {view} leave a gap above h={min_s}: prepared at {heights}"
        )
    reproposals = tuple((h, best[h].pre_prepare.block) for h in heights)
    return NewViewPlan(view, anchor, reproposals, Height(heights[-1] if heights else min_s))


def make_new_view(
    view: View,
    view_changes: Sequence[ViewChange],
    config: ReplicaConfig,
    key: PrivateKey,
) -> tuple[NewView, NewViewPlan]:
    """The NewView the primary of `view` sends for these (already checked) view changes."""
    plan = plan_new_view(view, view_changes)
    reproposals = tuple(
        sign(PrePrepare(view, height, block, config.replica_id), key, config.chain_id)
        for height, block in plan.reproposals
    )
    new_view = sign(
        NewView(view, config.replica_id, tuple(view_changes), reproposals), key, config.chain_id
    )
    return new_view, plan


def check_new_view(
    new_view: NewView, config: ReplicaConfig, verifier: SignatureVerifier
) -> NewViewPlan:
    """Raise InvalidMessage unless `new_view` is exactly what its view changes decide."""
    new_view.validate_basic()
    primary = config.primary_of(new_view.view)
    if new_view.replica != primary:
        raise InvalidMessage(
            f"new-view {new_view.view} sent by r{new_view.replica}, the view is led by r{primary}"
        )
    if not verifier.verify_message(new_view):
        raise InvalidMessage(f"new-view {new_view.view}: bad signature")
    if len(new_view.view_changes) != config.quorum:
        # Exactly a quorum, as the primary chooses them: more would prove nothing more and
        # would let a NewView outgrow the frame limit (messages.max_message_bytes).
        raise InvalidMessage(
            f"new-view {new_view.view} holds {len(new_view.view_changes)} view-changes, "
            f"needs exactly {config.quorum}"
        )
    for view_change in new_view.view_changes:
        check_view_change(view_change, config, verifier)
    plan = plan_new_view(new_view.view, new_view.view_changes)
    expected = [(height, block.block_hash) for height, block in plan.reproposals]
    got = sorted((pp.height, pp.block_hash) for pp in new_view.reproposals)
    if got != expected:
        raise InvalidMessage(
            f"new-view {new_view.view} re-proposes {[h for h, _ in got]}, its view changes "
            f"decide {[h for h, _ in expected]} (or different blocks)"
        )
    for pre_prepare in new_view.reproposals:
        if not verifier.verify_message(pre_prepare):
            raise InvalidMessage(f"new-view {new_view.view}: bad re-proposal signature")
    return plan
