"""The texts the history and receipt pages' scripts show, in the reader's language.

They are looked up here, with Lang.gettext, rather than with _() in the templates: a
script fills their %(name)s places itself (static/js/page.js `text`), and Jinja's _()
formats every text it returns, so a place left for the script would be an error there.

The receipt check's texts are keyed by receipt.js's check ids (PROTOCOL.md 14.3):
`name_ID` names the check, `pass_ID` says what it proved, `fail_ID` what its failure
means for the citizen.
"""

from __future__ import annotations

from webapp.i18n import Lang

CHECK_IDS = (
    "file",
    "genesis",
    "transaction",
    "header",
    "inclusion",
    "commit",
    "receipt",
    "receipt_commitment",
    "outcome",
    "internal",
)
"""receipt.js's check ids (CHECKS), and "internal" for a check that stopped on a bug."""


def receipt_texts(lang: Lang) -> dict[str, str]:

    return {
        "name_file": lang.gettext("Receipt file"),
        "name_genesis": lang.gettext("Chain (genesis)"),
        "name_transaction": lang.gettext("Ballot transaction"),
        "name_header": lang.gettext("Block header"),
        "name_inclusion": lang.gettext("Inclusion in the block (Merkle proof)"),
        "name_commit": lang.gettext("Commit certificate"),
        "name_receipt": lang.gettext("Receipt"),
        "name_receipt_commitment": lang.gettext("Receipt certified by the next block"),
        "name_outcome": lang.gettext("Outcome"),
        "name_internal": lang.gettext("The check"),
        "passed": lang.gettext("Passed"),
        "failed": lang.gettext("Failed"),
        "pending": lang.gettext("Not yet"),
        "pass_genesis_pinned": lang.gettext(
            "The receipt is for the chain whose published genesis hash you pinned: %(hash)s."
        ),
        "pass_genesis": lang.gettext(
            "The receipt is for the chain this node serves, whose genesis hashes to "
            "%(hash)s. Compare this with the hash the city publishes."
        ),
        "pass_genesis_own": lang.gettext(
            "The receipt is for the chain whose genesis, carried in the receipt itself, hashes "
            "to %(hash)s. Compare this with the hash the city publishes: the node gave none."
        ),
        "pass_transaction": lang.gettext(
            "The transaction %(tx)s is signed by the voter key %(signer)s, and its id is "
            "the hash of its bytes: it is the ballot as it was sent, unaltered."
        ),
        "pass_header": lang.gettext("The header of block %(height)s hashes to %(hash)s."),
        "pass_inclusion": lang.gettext(
            "Block %(height)s contains the ballot, at position %(position)s: its Merkle "
            "proof leads to the transaction root in the block's header."
        ),
        "pass_commit": lang.gettext(
            "%(signers)s of the %(validators)s validators named in the genesis signed block "
            "%(height)s, and %(quorum)s are needed: the block is committed."
        ),
        "pass_receipt": lang.gettext("The chain's receipt is for this ballot, at this position."),
        "pass_receipt_commitment": lang.gettext(
            "Block %(next)s, signed by the validators too, contains this receipt: the "
            "outcome below is the chain's."
        ),
        "pending_receipt_commitment": lang.gettext(
            "Not certified yet: block %(next)s, which certifies the receipt, did not exist "
            "when this copy was made. Check again in a moment."
        ),
        "pass_outcome": lang.gettext("The chain accepted the ballot."),
        "fail_file": lang.gettext(
            "This is not a receipt file this page reads (votechain-receipt, version 1), or "
            "a field of it is missing."
        ),
        "fail_genesis": lang.gettext(
            "The receipt is not for the chain whose genesis this check trusts: it proves "
            "nothing about this city's polls."
        ),
        "fail_genesis_pin": lang.gettext(
            "This node's genesis hashes to %(node)s, not to the published hash you pinned "
            "(%(pinned)s): the node serves another chain, and its answers prove nothing "
            "about the city's."
        ),
        "fail_transaction": lang.gettext(
            "The transaction in the receipt was altered: its bytes do not match its id, or "
            "its signature does not verify."
        ),
        "fail_header": lang.gettext(
            "The block header in the receipt is damaged, or belongs to another chain or "
            "another height."
        ),
        "fail_inclusion": lang.gettext(
            "The Merkle proof does not lead to the transaction root of block %(height)s: "
            "nothing shows that the block contains this ballot. The receipt was altered."
        ),
        "fail_commit": lang.gettext(
            "The block's commit certificate does not hold valid signatures of enough "
            "validators named in the genesis: nothing shows that the validators committed "
            "this block."
        ),
        "fail_commit_count": lang.gettext("Valid signatures: %(count)s; needed: %(quorum)s."),
        "fail_commit_bad": lang.gettext("A signature that does not verify: %(names)s."),
        "fail_receipt": lang.gettext("The receipt in the file is not this ballot's."),
        "fail_receipt_commitment": lang.gettext(
            "The next block does not certify this receipt: the outcome it shows may have "
            "been altered."
        ),
        "fail_outcome": lang.gettext("The chain refused this transaction: %(reason)s"),
        "fail_internal": lang.gettext(
            "The check could not run to the end. If it fails again, the receipt is damaged."
        ),
        "verdict_ok": lang.gettext(
            "Your ballot is in the certified chain, and the chain accepted it."
        ),
        "verdict_pending": lang.gettext(
            "Your ballot is in a committed block; the next block will certify its outcome. "
            "Check again in a moment."
        ),
        "verdict_failed": lang.gettext("The check failed: %(check)s."),
        "checking": lang.gettext("Checking…"),
        "from_node": lang.gettext("Checked the receipt this node gives for the transaction."),
        "from_saved": lang.gettext(
            "The node could not be reached: checked the copy kept in this browser, against "
            "the genesis this browser saw before."
        ),
        "from_file": lang.gettext("Checked the receipt file you gave."),
        "not_found": lang.gettext(
            "This node has no committed transaction with this id, and this browser keeps no "
            "receipt of it."
        ),
        "hidden_no_copy": lang.gettext(
            "While the poll hides its results, the node does not give a ballot's contents, "
            "and this browser keeps no copy of this one. Open My votes in the browser you "
            "voted with."
        ),
        "no_genesis": lang.gettext(
            "The chain's genesis could not be read from the node, and this browser has none "
            "saved: the check needs it."
        ),
        "not_json": lang.gettext("The text is not a receipt file: it is not JSON."),
        "nothing_given": lang.gettext("Paste a receipt file's text, or choose the file, first."),
        "pin_saved": lang.gettext("This browser now checks against the genesis hash %(hash)s."),
        "pin_cleared": lang.gettext("No genesis hash is pinned: checks use this node's genesis."),
        "pin_bad": lang.gettext("A genesis hash is 64 characters, 0-9 and a-f."),
        "file_name": lang.gettext("ballot-receipt-%(tx)s.json"),
        "nothing_chosen": lang.gettext("(nothing chosen)"),
        "question_n": lang.gettext("Question %(n)s"),
        "option_n": lang.gettext("Option %(n)s"),
        "tracking_bad": lang.gettext(
            "A tracking code is 26 letters A-Z and digits 2-7, as the booth showed it."
        ),
        "tracking_not_found": lang.gettext(
            "No ballot on the chain has this tracking code: check it, and note that a ballot "
            "is found once it is recorded, and an audited one is never cast."
        ),
        "tracking_looking": lang.gettext("Looking for the ballot on the chain…"),
    }


def history_texts(lang: Lang) -> dict[str, str]:

    return {
        "loading": lang.gettext("Reading your history from the chain…"),
        "empty": lang.gettext("This phone has no ballots on the chain yet."),
        "count": lang.gettext("Participations in all: %(total)s."),
        "when": lang.gettext("Block %(height)s, %(when)s"),
        "check": lang.gettext("Check the receipt"),
        "untitled": lang.gettext("Poll %(id)s"),
        "offline": lang.gettext(
            "The node could not be reached. These are the receipts kept in this browser."
        ),
        "no_saved": lang.gettext(
            "The node could not be reached, and this browser keeps no receipts."
        ),
        "not_enrolled": lang.gettext(
            "The chain shows no history to this browser's key: it is not the key your phone "
            "is enrolled with now (it was replaced, or it is still waiting to replace the "
            "old one). Verify your phone number in this browser to read your history here."
        ),
        "more": lang.gettext("Show more"),
        "tx": lang.gettext("Transaction"),
        "tracking": lang.gettext("Tracking code"),
    }
