// The citizen's ballot receipts kept in the browser, in IndexedDB (database
// "votechain-receipts", store "receipts", keyed by tx id), so that the history and
// receipt pages can show and check them offline and after the poll's results hide the
// ballot's bytes from GET /v1/tx/{id}.
//
// A database of its own, not keystore.js's "votechain": a second store there would need
// a version upgrade that both modules agree on, and a page that opened the old version
// would block it.

import { FORMAT } from "./receipt.js";
import { objectStore } from "./idb.js";

const DATABASE = "votechain-receipts";
const STORE = "receipts";
const TX_ID = /^[0-9a-f]{64}$/;

const run = objectStore(DATABASE, STORE);

/** The tx id a saved document is about: a receipt file's `tx_id`, or a committed
 * document's `tx.tx_id`; throws TypeError for anything else. */
export function txIdOf(document) {
  const id = document?.format === FORMAT ? document.tx_id : document?.tx?.tx_id;
  if (typeof id !== "string" || !TX_ID.test(id)) {
    throw new TypeError("not a receipt: expected a receipt file or a committed transaction");
  }
  return id;
}

/** The node's committed document `fresh` completed from `saved`, an earlier one of the
 * same transaction: while a poll hides its results the node leaves out the ballot's
 * bytes, which the voter's own copy has; a copy saved at commit has no receipt_proof
 * yet, which a later answer has. Either may be null. Nothing here is trusted: the
 * receipt check verifies every byte. */
export function completeCommitted(fresh, saved) {
  if (!fresh) return saved ?? null;
  if (!saved || saved.tx?.tx_id !== fresh.tx?.tx_id) return fresh;
  const tx = fresh.tx.encoded ? fresh.tx : saved.tx.encoded ? saved.tx : fresh.tx;
  return {
    ...fresh,
    tx,
    receipt_proof: fresh.receipt_proof ?? saved.receipt_proof ?? null,
  };
}

/**
 * Keep a receipt in this browser. `document` is either a committed transaction as the
 * node answers it (POST /v1/tx?wait=commit once committed, GET /v1/tx/{id}, or a record's
 * `committed` of POST /v1/history) or a receipt file (format "votechain-receipt").
 * A transaction saved before is completed, never made poorer: its ballot bytes and the
 * next block's proof are kept when the new copy lacks them. Returns the tx id.
 */
export async function saveReceipt(document) {
  const txId = txIdOf(document);
  const before = await loadReceipt(txId);
  const record = { txId, savedAtMs: before?.savedAtMs ?? Date.now(), committed: null, file: null };
  if (document.format === FORMAT) {
    record.file = document;
    record.committed = before?.committed ?? null;
  } else {
    const { status: _status, ...committed } = document;
    record.committed = completeCommitted(committed, before?.committed);
    record.file = before?.file ?? null;
  }
  await run("readwrite", (store) => store.put(record, txId));
  return txId;
}

/** The saved record of `txId`: {txId, savedAtMs, committed, file} (either may be null),
 * or null when none is kept. */
export async function loadReceipt(txId) {
  const record = await run("readonly", (store) => store.get(txId));
  return record ?? null;
}

/** Every saved record, most recently saved first. */
export async function listReceipts() {
  const records = await run("readonly", (store) => store.getAll());
  return records.sort((a, b) => b.savedAtMs - a.savedAtMs);
}

export async function deleteReceipt(txId) {
  await run("readwrite", (store) => store.delete(txId));
}
