// A voter's receipt checked in the browser (docs/PROTOCOL.md section 14.3, checks 1-8),
// the browser's twin of verifier/receipts.py: no chain replay, only the genesis
// validators' keys, one block header, its commit certificate and two Merkle proofs.
//
// `checkReceipt` returns every check it ran, in order, in plain words, and stops at the
// first that fails, as `votechain receipt` does. Each entry has a stable `id` and
// `params`, so a page can show it through its own message catalogue, and an English
// `text`. This module does no I/O: the page fetches GET /v1/tx/{tx_id} and the genesis
// and passes documents in (`receiptFromCommitted` builds a receipt file from the former).

import { equal, fromHex, short, toHex } from "./bytes.js";
import { DecodeError } from "./encoding.js";
import { verify } from "./ed25519.js";
import {
  commitVoteSignBytes,
  decodeCertificate,
  decodeHeader,
  decodeReceipt,
  genesisFromJson,
  headerOfRawBlock,
  verifyMerkleProof,
} from "./chain.js";
import { decodeTransaction, signBytesOf, txIdOf } from "./tx.js";

export const FORMAT = "votechain-receipt";
export const VERSION = 1;

/** What section 14.3 numbers each check; a failure reports the number too. */
export const CHECKS = Object.freeze({
  file: 0,
  genesis: 1,
  transaction: 2,
  header: 3,
  inclusion: 4,
  commit: 5,
  receipt: 6,
  receipt_commitment: 7,
  outcome: 8,
  on_chain: 9,
});

class Failure extends Error {
  constructor(id, text, params = {}) {
    super(text);
    this.id = id;
    this.params = params;
  }
}

/**
 * Check a receipt document. `trustedGenesis` is a genesis.json document the citizen
 * trusts (the city's publication); without it the receipt's own copy is used, and only
 * the genesis hash ties the receipt to a chain, which the result says.
 *
 * Returns {ok, accepted, certified, checks: [{check, id, ok, text, params}], failure:
 * the failing entry or null, summary: {...} of what was proved}. `ok` is true only when
 * every check passed, the receipt is certified by the next block, and the code is
 * accepted. Never throws for a bad document: a malformed one fails the check naming it.
 */
export async function checkReceipt(document, trustedGenesis = null) {
  const checks = [];
  const summary = {};
  const pass = (id, text, params = {}) =>
    checks.push({ check: CHECKS[id], id, ok: true, text, params });
  try {
    await runChecks(document, trustedGenesis, pass, summary);
  } catch (error) {
    const failure =
      error instanceof Failure
        ? { check: CHECKS[error.id], id: error.id, ok: false, text: error.message, params: error.params }
        : { check: null, id: "internal", ok: false, text: `the check stopped: ${error}`, params: {} };
    checks.push(failure);
    return { ok: false, accepted: false, certified: false, checks, failure, summary };
  }
  const pending = checks.find((c) => c.id === "receipt_commitment" && c.params.pending);
  return {
    ok: !pending,
    accepted: true,
    certified: !pending,
    checks,
    failure: null,
    summary,
  };
}

async function runChecks(document, trustedGenesis, pass, summary) {
  if (document === null || typeof document !== "object") {
    throw new Failure("file", "the receipt is not a JSON object");
  }
  if (document.format !== FORMAT || document.version !== VERSION) {
    throw new Failure("file", `the file is not a ${FORMAT} version ${VERSION}`);
  }

  // 1. Genesis
  const genesis = await checkGenesis(document, trustedGenesis);
  summary.genesisHash = toHex(genesis.hash);
  pass(
    "genesis",
    trustedGenesis
      ? `The receipt is for the chain whose genesis you trust (hash ${short(genesis.hash)}).`
      : `The receipt is for the chain whose genesis hashes to ${toHex(genesis.hash)}; ` +
          "compare this with the hash the city publishes.",
    { genesis_hash: toHex(genesis.hash), trusted: Boolean(trustedGenesis) },
  );
  const height = fileInt(document, "height");
  const position = fileInt(document, "position");

  // 2. Transaction
  const tx = await checkTransaction(document, genesis);
  Object.assign(summary, { txId: toHex(tx.txId), kind: tx.kind, height, position });
  pass(
    "transaction",
    `The transaction ${short(tx.txId)} (${tx.kind}) is signed by key ${short(tx.signer)}, ` +
      "and its id is the hash of its bytes.",
    { tx_id: toHex(tx.txId), kind: tx.kind, signer: toHex(tx.signer) },
  );

  // 3. Header
  const header = await decodeField(document, "header", decodeHeader, "header");
  checkHeaderPlace(header, genesis, height, "header", `the header of block ${height}`);
  summary.blockHash = toHex(header.hash);
  pass("header", `Block ${height} of this chain hashes to ${short(header.hash)}.`, {
    height,
    block_hash: toHex(header.hash),
  });

  // 4. Inclusion
  const txProof = proofField(document.tx_proof, "tx_proof", "inclusion");
  if (txProof.index !== position || !(await verifyMerkleProof(header.txRoot, tx.txId, txProof))) {
    throw new Failure(
      "inclusion",
      `The transaction is not at position ${position} of block ${height}: its Merkle proof ` +
        "does not lead to the header's tx_root.",
      { position, height },
    );
  }
  pass(
    "inclusion",
    `Block ${height} lists the transaction at position ${position}: its Merkle proof leads ` +
      "to the transaction root in the block's header.",
    { position, height },
  );

  // 5. Commit
  const signers = await checkCertificate(document.certificate, "certificate", genesis, header, "commit");
  summary.signers = signers;
  pass(
    "commit",
    `${signers} of the ${genesis.validators.length} validators named in genesis signed block ` +
      `${height} (${genesis.quorum} are needed): the block is committed.`,
    { signers, validators: genesis.validators.length, quorum: genesis.quorum, height },
  );

  // 6. Receipt
  const receiptBytes = hexField(document, "receipt", "receipt");
  let receipt;
  try {
    receipt = decodeReceipt(receiptBytes);
  } catch (error) {
    throw new Failure("receipt", `The receipt does not decode: ${error.message}`);
  }
  if (!equal(receipt.txId, tx.txId) || Number(receipt.position) !== position) {
    throw new Failure(
      "receipt",
      `The receipt is for transaction ${short(receipt.txId)} at position ${receipt.position}, ` +
        "not this one.",
    );
  }
  summary.code = receipt.code;
  summary.pollId = receipt.pollId === null ? null : toHex(receipt.pollId);
  pass("receipt", "The receipt is for this transaction at this position.", {
    code: receipt.code,
  });

  // 7. Receipt commitment
  const certified = await checkReceiptProof(document, genesis, header, receiptBytes, position);
  summary.receiptCertified = certified;
  if (certified) {
    pass(
      "receipt_commitment",
      `Block ${height + 1}, committed by the validators too, holds this receipt in its ` +
        "receipts root: the outcome below is the chain's.",
      { next_height: height + 1, pending: false },
    );
  } else {
    pass(
      "receipt_commitment",
      `The receipt is not certified yet: block ${height + 1}, which commits to it, did not ` +
        "exist when the receipt was saved. Check again later to complete it.",
      { next_height: height + 1, pending: true },
    );
  }

  // 8. Outcome
  if (receipt.code !== "accepted") {
    throw new Failure("outcome", `The chain refused the transaction: ${receipt.code}.`, {
      code: receipt.code,
    });
  }
  pass("outcome", "The chain accepted the transaction.", { code: receipt.code });
}

async function checkGenesis(document, trusted) {
  let pinned;
  try {
    pinned = fromHex(document.genesis_hash, "genesis_hash");
  } catch {
    throw new Failure("genesis", "The receipt has no genesis_hash.");
  }
  const source = trusted || document.genesis;
  if (!source) {
    throw new Failure("genesis", "The receipt carries no genesis: give the chain's genesis.json.");
  }
  const what = trusted ? "The genesis you trust" : "The receipt's genesis";
  let genesis;
  try {
    genesis = await genesisFromJson(source);
  } catch (error) {
    throw new Failure("genesis", `${what} is malformed: ${error.message}`);
  }
  if (!equal(genesis.hash, pinned)) {
    throw new Failure(
      "genesis",
      `${what} hashes to ${toHex(genesis.hash)}, but the receipt is for genesis ${toHex(pinned)}.`,
      { genesis_hash: toHex(genesis.hash), expected: toHex(pinned) },
    );
  }
  if (document.chain_id !== undefined && document.chain_id !== null && document.chain_id !== genesis.chainId) {
    throw new Failure("genesis", `The receipt names chain "${document.chain_id}", not "${genesis.chainId}".`);
  }
  return genesis;
}

async function checkTransaction(document, genesis) {
  const bytes = hexField(document, "tx", "transaction");
  let tx;
  try {
    tx = decodeTransaction(bytes);
  } catch (error) {
    throw new Failure("transaction", `The receipt's tx does not decode: ${error.message}`);
  }
  tx.txId = await txIdOf(bytes);
  if (document.tx_id !== toHex(tx.txId)) {
    throw new Failure(
      "transaction",
      `The transaction hashes to ${toHex(tx.txId)}, not the receipt's tx_id ${document.tx_id}.`,
    );
  }
  if (tx.chainId !== genesis.chainId) {
    throw new Failure(
      "transaction",
      `The transaction is for chain "${tx.chainId}", not "${genesis.chainId}".`,
    );
  }
  if (!(await verify(tx.signer, tx.signature, await signBytesOf(tx)))) {
    throw new Failure("transaction", `The transaction's signature does not verify under its signer ${short(tx.signer)}.`);
  }
  return tx;
}

function checkHeaderPlace(header, genesis, height, id, what) {
  if (header.chainId !== genesis.chainId || Number(header.height) !== height) {
    throw new Failure(
      id,
      `${capitalise(what)} is for chain "${header.chainId}" at height ${header.height}.`,
    );
  }
}

/** Checks 5 and 7: a quorum of distinct genesis validators signed this header's hash. */
async function checkCertificate(hex, field, genesis, header, id) {
  const height = Number(header.height);
  let certificate;
  try {
    certificate = decodeCertificate(fromHex(hex, field));
  } catch (error) {
    throw new Failure(id, `The ${field} of block ${height} does not decode: ${error.message}`);
  }
  const subject = `The certificate of block ${height}`;
  if (certificate.chainId !== genesis.chainId) {
    throw new Failure(id, `${subject} is for chain "${certificate.chainId}", not "${genesis.chainId}".`);
  }
  if (Number(certificate.height) !== height) {
    throw new Failure(id, `${subject} says height ${certificate.height}.`);
  }
  if (!equal(certificate.blockHash, header.hash)) {
    throw new Failure(
      id,
      `${subject} certifies block ${short(certificate.blockHash)}, but the block at this height ` +
        `hashes to ${short(header.hash)}.`,
    );
  }
  const message = await commitVoteSignBytes(certificate);
  const seen = new Set();
  const bad = [];
  for (const entry of certificate.signatures) {
    const hex = toHex(entry.validator);
    const name = validatorName(genesis, entry.validator);
    if (seen.has(hex)) {
      throw new Failure(id, `${subject} lists validator ${name} twice.`);
    }
    seen.add(hex);
    if (!genesis.validators.some((v) => equal(v.publicKey, entry.validator))) {
      throw new Failure(id, `${subject} is signed by ${name}, not a validator.`);
    }
    if (!(await verify(entry.validator, entry.signature, message))) {
      bad.push(name);
    }
  }
  const count = seen.size - bad.length;
  const plural = count === 1 ? "" : "s";
  if (bad.length) {
    throw new Failure(
      id,
      `${subject} has a bad signature from ${bad.join(", ")}: ${count} valid signature${plural}, ` +
        `needs ${genesis.quorum}.`,
      { bad, count, quorum: genesis.quorum },
    );
  }
  if (count < genesis.quorum) {
    throw new Failure(id, `${subject} has ${count} valid signature${plural}, needs ${genesis.quorum}.`, {
      count,
      quorum: genesis.quorum,
    });
  }
  return count;
}

async function checkReceiptProof(document, genesis, header, receiptBytes, position) {
  const following = document.receipt_proof;
  if (!following) {
    return false;
  }
  const height = Number(header.height) + 1;
  if (typeof following !== "object") {
    throw new Failure("receipt_commitment", "The receipt_proof is not an object.");
  }
  let next;
  try {
    next = await decodeHeader(fromHex(following.next_header, "next_header"));
  } catch (error) {
    throw new Failure("receipt_commitment", `The receipt_proof has no valid next_header: ${error.message}`);
  }
  checkHeaderPlace(next, genesis, height, "receipt_commitment", `the next header, of block ${height},`);
  if (!equal(next.prevHash, header.hash)) {
    throw new Failure("receipt_commitment", `The header of block ${height} does not link to the receipt's block.`);
  }
  await checkCertificate(following.next_certificate, "next_certificate", genesis, next, "receipt_commitment");
  const proof = proofField(following.proof, "receipt_proof.proof", "receipt_commitment");
  if (proof.index !== position || !(await verifyMerkleProof(next.prevReceiptsRoot, receiptBytes, proof))) {
    throw new Failure(
      "receipt_commitment",
      `The receipt is not in the receipts root that block ${height} certifies (altered receipt?).`,
    );
  }
  return true;
}

/** Check 9 (optional): the chain a node serves now still has the receipt's block at its
 * height. `rawBlock` is the body of GET /v1/raw/blocks/{height} from that node. Returns
 * one entry like those of `checkReceipt`. */
export async function checkOnChain(document, rawBlock) {
  const entry = (ok, text, params = {}) => ({ check: CHECKS.on_chain, id: "on_chain", ok, text, params });
  let saved;
  let current;
  try {
    saved = await decodeHeader(fromHex(document.header, "header"));
  } catch (error) {
    return entry(false, `The receipt's header does not decode: ${error.message}`);
  }
  const height = Number(saved.height);
  try {
    current = await headerOfRawBlock(rawBlock);
  } catch (error) {
    return entry(false, `The node's block ${height} does not decode: ${error.message}`);
  }
  if (Number(current.height) !== height || !equal(current.hash, saved.hash)) {
    return entry(
      false,
      `Block ${height} on the node hashes to ${short(current.hash)}, not the receipt's ` +
        `${short(saved.hash)}: the chain was rewritten, or the node is on another.`,
      { height },
    );
  }
  return entry(true, `The node still has this block at height ${height}.`, { height });
}

/** A receipt document (section 14.3) from a node's GET /v1/tx/{tx_id} answer and the
 * chain's genesis.json; nothing is checked here: run checkReceipt on the result. */
export async function receiptFromCommitted(committed, genesisDoc) {
  const genesis = await genesisFromJson(genesisDoc);
  try {
    return buildDocument(committed, genesisDoc, genesis);
  } catch (error) {
    throw new DecodeError(`the node's answer lacks a field: ${error.message}`);
  }
}

function buildDocument(committed, genesisDoc, genesis) {
  const proof = (p) => ({
    index: Number(p.index),
    leaf_count: Number(p.leaf_count),
    siblings: p.siblings.map(String),
  });
  const following = committed.receipt_proof;
  const { genesis_hash: _ignored, ...genesisOnly } = genesisDoc;
  return {
    format: FORMAT,
    version: VERSION,
    chain_id: genesis.chainId,
    genesis_hash: toHex(genesis.hash),
    tx_id: committed.tx.tx_id,
    height: Number(committed.height),
    position: Number(committed.position),
    tx: committed.tx.encoded,
    header: committed.header.encoded,
    certificate: committed.certificate.encoded,
    tx_proof: proof(committed.tx_proof),
    receipt: committed.receipt.encoded,
    receipt_proof: following
      ? {
          proof: proof(following.proof),
          next_header: following.next_header.encoded,
          next_certificate: following.next_certificate.encoded,
        }
      : null,
    summary: {
      kind: committed.tx.kind,
      body: committed.tx.body,
      code: committed.receipt.code,
      block_hash: committed.header.hash,
    },
    genesis: genesisOnly,
  };
}

function validatorName(genesis, key) {
  const named = genesis.validators.find((v) => equal(v.publicKey, key));
  return named ? `${named.name} (${short(key)})` : short(key);
}

function hexField(document, field, id) {
  if (typeof document[field] !== "string") {
    throw new Failure(id, `The receipt has no ${field}.`);
  }
  try {
    return fromHex(document[field], field);
  } catch (error) {
    throw new Failure(id, `The receipt's ${field} does not decode: ${error.message}`);
  }
}

async function decodeField(document, field, decoder, id) {
  const bytes = hexField(document, field, id);
  try {
    return await decoder(bytes);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new Failure(id, `The receipt's ${field} does not decode: ${error.message}`);
    }
    throw error;
  }
}

function proofField(value, what, id) {
  try {
    const index = value.index;
    const leafCount = value.leaf_count;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(leafCount) || !Array.isArray(value.siblings)) {
      throw new TypeError(what);
    }
    return { index, leafCount, siblings: value.siblings.map((s) => fromHex(s, what)) };
  } catch {
    throw new Failure(id, `The receipt has a malformed ${what}.`);
  }
}

function fileInt(document, field) {
  const value = document[field];
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Failure("file", `The receipt has no valid ${field}.`);
  }
  return value;
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
