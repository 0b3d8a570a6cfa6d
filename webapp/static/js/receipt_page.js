// /r/{tx id} and /r: a ballot's receipt checked in this browser (receipt.js,
// PROTOCOL.md 14.3) against the chain's genesis, every check shown in the page's language
// by its id (the texts come from the template: webapp/receipt_texts.py).
//
// The genesis checked against is the node's, unless the citizen pinned the hash the city
// publishes: then a node serving another chain fails the genesis check. The node's
// answer is completed with the copy kept in this browser (receipts_store.js), which has
// the ballot's bytes while the poll hides them and stands in when the node is offline.

import { decodeBody } from "./bodies.js";
import { trackingCode, trackingText } from "./ballotcrypto.js";
import { fromHex, toHex } from "./bytes.js";
import { genesisFromJson } from "./chain.js";
import { RpcFailure, errorText, reasonText, rpc, text } from "./page.js";
import { checkReceipt, receiptFromCommitted } from "./receipt.js";
import { completeCommitted, loadReceipt, saveReceipt } from "./receipts_store.js";
import { decodeTransaction } from "./tx.js";

const PIN_KEY = "votechain.pinned-genesis-hash";
const GENESIS_KEY = "votechain.genesis";
const HASH = /^[0-9a-f]{64}$/;
const GENESIS_TEXTS = { pinned: "pass_genesis_pinned", node: "pass_genesis", own: "pass_genesis_own" };

const article = document.querySelector("article.receipt-check");
const txId = article.dataset.txId || null;
const resultSection = document.getElementById("check-result");
const sourceLine = document.getElementById("check-source");
const verdict = document.getElementById("check-verdict");
const checkList = document.getElementById("check-list");
const download = document.getElementById("check-download");
const pinInput = document.getElementById("pinned-hash");
const pinStatus = document.getElementById("pin-status");
const fileStatus = document.getElementById("file-status");
const recorded = document.getElementById("recorded");
const number = new Intl.NumberFormat(document.documentElement.lang);

let nodeGenesis = null; // {doc, hash} of the genesis the node serves (or last served)
let downloadUrl = null;

function pinned() {
  try {
    const value = localStorage.getItem(PIN_KEY);
    return value && HASH.test(value) ? value : null;
  } catch {
    return null;
  }
}

async function loadGenesis() {
  let doc = null;
  try {
    doc = await rpc("/v1/genesis");
    localStorage.setItem(GENESIS_KEY, JSON.stringify(doc));
  } catch {
    try {
      doc = JSON.parse(localStorage.getItem(GENESIS_KEY) ?? "null");
    } catch {
      doc = null;
    }
  }
  if (doc === null) return null;
  try {
    return { doc, hash: toHex((await genesisFromJson(doc)).hash) };
  } catch {
    return null;
  }
}

/** The genesis to check `document` against: {trusted: genesis.json or null (the
 * receipt's own), basis: "pinned" | "node" | "own"}, or {failure} when a pinned hash
 * rules the node's out. */
function chooseGenesis(receiptDoc) {
  const pin = pinned();
  if (!pin) {
    return nodeGenesis
      ? { trusted: nodeGenesis.doc, basis: "node" }
      : { trusted: null, basis: "own" };
  }
  if (nodeGenesis?.hash === pin) {
    return { trusted: nodeGenesis.doc, basis: "pinned" };
  }
  if (receiptDoc?.genesis && receiptDoc.genesis_hash === pin) {
    // checkReceipt proves the receipt's genesis hashes to its genesis_hash, the pin.
    return { trusted: null, basis: "pinned" };
  }
  const node = nodeGenesis?.hash ?? "—";
  return { failure: text("fail_genesis_pin", { node, pinned: pin }) };
}

async function check(receiptDoc, source) {
  const genesis = chooseGenesis(receiptDoc);
  if (genesis.failure) {
    show(source, [{ id: "genesis", ok: false, params: {}, words: genesis.failure }], "failed");
    recorded.hidden = true;
    return null;
  }
  const result = await checkReceipt(receiptDoc, genesis.trusted);
  const shown = result.checks.map((entry) => ({ ...entry, words: words(entry, genesis.basis) }));
  show(source, shown, result.failure ? "failed" : result.ok ? "ok" : "pending");
  recorded.hidden = true;
  if (result.checks.some((entry) => entry.id === "transaction" && entry.ok)) {
    await showRecorded(receiptDoc);
  }
  return result;
}

/** The choices of a ballot whose signed bytes the check verified, with the poll's texts
 * (GET /v1/polls/{id}; only indices when the node cannot be asked). */
async function showRecorded(receiptDoc) {
  let pollId;
  let selections;
  let encrypted = null;
  try {
    const tx = decodeTransaction(fromHex(receiptDoc.tx, "tx"));
    if (tx.kind !== "cast_ballot") return;
    const body = decodeBody("cast_ballot", tx.body);
    pollId = toHex(body[0]);
    selections = body[1];
    encrypted = body[6] ?? null;
  } catch {
    return;
  }
  let poll = null;
  try {
    poll = await rpc(`/v1/polls/${pollId}`);
  } catch {
    poll = null;
  }
  const pollLink = document.getElementById("recorded-poll");
  pollLink.href = `/p/${pollId.slice(0, 12)}`;
  pollLink.textContent = typeof poll?.title === "string" ? poll.title : `/p/${pollId.slice(0, 12)}`;
  const list = document.getElementById("recorded-list");
  if (encrypted !== null) {
    // A secret poll's ballot: its choices are encrypted; the tracking code finds it.
    document.getElementById("recorded-public").hidden = true;
    document.getElementById("recorded-secret").hidden = false;
    document.getElementById("recorded-tracking").textContent = trackingText(
      await trackingCode(encrypted),
    );
    list.replaceChildren();
    recorded.hidden = false;
    return;
  }
  list.replaceChildren(
    ...selections.map((chosen, q) => {
      const question = poll?.questions?.[q];
      const row = document.createElement("div");
      const term = document.createElement("dt");
      term.textContent = typeof question?.text === "string" ? question.text : text("question_n", { n: q + 1 });
      const value = document.createElement("dd");
      const names = chosen.map((i) => {
        const option = question?.options?.[Number(i)];
        return typeof option?.text === "string" ? option.text : text("option_n", { n: Number(i) + 1 });
      });
      value.textContent = names.length ? names.join(", ") : text("nothing_chosen");
      row.append(term, value);
      return row;
    }),
  );
  recorded.hidden = false;
}

function words(entry, basis) {
  const p = entry.params ?? {};
  const n = (value) => (Number.isSafeInteger(value) ? number.format(value) : String(value ?? ""));
  if (!entry.ok) {
    if (entry.id === "inclusion") return text("fail_inclusion", { height: n(p.height) });
    if (entry.id === "outcome") return text("fail_outcome", { reason: reasonText(p.code) });
    if (entry.id === "commit") {
      const parts = [text("fail_commit")];
      if (Array.isArray(p.bad) && p.bad.length) parts.push(text("fail_commit_bad", { names: p.bad.join(", ") }));
      if (p.count !== undefined) parts.push(text("fail_commit_count", { count: n(p.count), quorum: n(p.quorum) }));
      return parts.join(" ");
    }
    const known = ["file", "genesis", "transaction", "header", "receipt", "receipt_commitment"];
    return text(known.includes(entry.id) ? `fail_${entry.id}` : "fail_internal");
  }
  switch (entry.id) {
    case "genesis":
      return text(GENESIS_TEXTS[basis], { hash: p.genesis_hash });
    case "transaction":
      return text("pass_transaction", { tx: p.tx_id, signer: p.signer });
    case "header":
      return text("pass_header", { height: n(p.height), hash: p.block_hash });
    case "inclusion":
      return text("pass_inclusion", { height: n(p.height), position: n(p.position) });
    case "commit":
      return text("pass_commit", {
        signers: n(p.signers),
        validators: n(p.validators),
        quorum: n(p.quorum),
        height: n(p.height),
      });
    case "receipt_commitment":
      return text(p.pending ? "pending_receipt_commitment" : "pass_receipt_commitment", {
        next: n(p.next_height),
      });
    default:
      return text(`pass_${entry.id}`);
  }
}

function checkName(id) {
  const known = ["file", "genesis", "transaction", "header", "inclusion", "commit", "receipt", "receipt_commitment", "outcome"];
  return text(known.includes(id) ? `name_${id}` : "name_internal");
}

function show(source, entries, outcome) {
  resultSection.hidden = false;
  sourceLine.textContent = text(source);
  checkList.replaceChildren(
    ...entries.map((entry) => {
      const pending = entry.ok && entry.id === "receipt_commitment" && entry.params?.pending;
      const item = document.createElement("li");
      item.className = entry.ok ? (pending ? "check pending" : "check passed") : "check failed";
      item.dataset.check = entry.id;
      const head = document.createElement("p");
      head.className = "check-head";
      const name = document.createElement("strong");
      name.textContent = checkName(entry.id);
      const mark = document.createElement("span");
      mark.className = "check-mark";
      mark.textContent = text(entry.ok ? (pending ? "pending" : "passed") : "failed");
      head.append(name, " ", mark);
      const body = document.createElement("p");
      body.className = "check-text";
      body.textContent = entry.words;
      item.append(head, body);
      return item;
    }),
  );
  const failed = entries.find((entry) => !entry.ok);
  verdict.className = `verdict verdict-${outcome}`;
  verdict.textContent =
    outcome === "ok"
      ? text("verdict_ok")
      : outcome === "pending"
        ? text("verdict_pending")
        : text("verdict_failed", { check: checkName(failed?.id) });
}

function say(message) {
  resultSection.hidden = false;
  sourceLine.textContent = "";
  checkList.replaceChildren();
  verdict.className = "verdict verdict-failed";
  verdict.textContent = message;
}

function offerDownload(receiptDoc) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(
    new Blob([JSON.stringify(receiptDoc, null, 2)], { type: "application/json" }),
  );
  download.href = downloadUrl;
  download.download = text("file_name", { tx: receiptDoc.tx_id.slice(0, 12) });
  download.hidden = false;
}

/** The receipt of the page's transaction: the node's answer completed with the copy kept
 * in this browser, or that copy alone when the node cannot be reached. */
async function checkTransaction() {
  verdict.textContent = text("checking");
  let saved = null;
  try {
    saved = await loadReceipt(txId);
  } catch {
    saved = null;
  }
  let fresh = null;
  let source = "from_node";
  try {
    fresh = await rpc(`/v1/tx/${txId}`);
  } catch (error) {
    if (!(error instanceof RpcFailure) || !["network", "not_found"].includes(error.code)) {
      say(errorText(error));
      return;
    }
    if (error.code === "network") source = "from_saved";
  }
  const committed = completeCommitted(fresh, saved?.committed ?? null);
  let receiptDoc = null;
  if (committed?.tx?.encoded && nodeGenesis) {
    try {
      receiptDoc = await receiptFromCommitted(committed, nodeGenesis.doc);
    } catch {
      receiptDoc = null;
    }
  }
  if (!receiptDoc && saved?.file) {
    receiptDoc = saved.file;
    if (fresh === null) source = "from_saved";
  }
  if (!receiptDoc) {
    say(text(committed && !nodeGenesis ? "no_genesis" : committed ? "hidden_no_copy" : "not_found"));
    return;
  }
  const result = await check(receiptDoc, source);
  if (result?.ok) {
    offerDownload(receiptDoc);
    if (saved) {
      // The kept copy gains what the node added since (the next block's proof).
      saveReceipt(committed ?? receiptDoc).catch(() => {});
    }
  } else if (result && !result.failure) {
    offerDownload(receiptDoc);
  }
}

async function checkGiven(event) {
  event.preventDefault();
  fileStatus.textContent = "";
  const file = document.getElementById("receipt-file").files[0];
  const typed = document.getElementById("receipt-text").value.trim();
  let raw = typed;
  if (!raw && file) raw = await file.text();
  if (!raw) {
    fileStatus.textContent = text("nothing_given");
    return;
  }
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fileStatus.textContent = text("not_json");
    return;
  }
  download.hidden = true;
  await check(parsed, "from_file");
  resultSection.scrollIntoView({ block: "start" });
}

function pin(event) {
  event.preventDefault();
  const value = pinInput.value.trim().toLowerCase();
  try {
    if (!value) {
      localStorage.removeItem(PIN_KEY);
      pinStatus.textContent = text("pin_cleared");
    } else if (!HASH.test(value)) {
      pinStatus.textContent = text("pin_bad");
      return;
    } else {
      localStorage.setItem(PIN_KEY, value);
      pinStatus.textContent = text("pin_saved", { hash: value });
    }
  } catch {
    return;
  }
  if (txId) checkTransaction();
}

/** The tracking code typed (spaces, dashes and case as the voter likes), to the ballot's
 * receipt page: GET /v1/tracking/{code} names its transaction. */
async function findTracking(event) {
  event.preventDefault();
  const status = document.getElementById("find-status");
  const typed = document.getElementById("tracking-code").value;
  const compact = typed.replace(/[\s-]/g, "").toUpperCase();
  if (!/^[A-Z2-7]{26}$/.test(compact) && !/^[0-9A-F]{64}$/.test(compact)) {
    status.textContent = text("tracking_bad");
    return;
  }
  status.textContent = text("tracking_looking");
  try {
    const found = await rpc(`/v1/tracking/${compact}`);
    location.assign(`/r/${found.tx_id}`);
  } catch (error) {
    const missing = error instanceof RpcFailure && error.code === "not_found";
    status.textContent = missing ? text("tracking_not_found") : errorText(error);
  }
}

async function main() {
  pinInput.value = pinned() ?? "";
  document.getElementById("find-form").addEventListener("submit", findTracking);
  document.getElementById("pin-form").addEventListener("submit", pin);
  document.getElementById("file-form").addEventListener("submit", checkGiven);
  nodeGenesis = await loadGenesis();
  if (txId) await checkTransaction();
}

main();
