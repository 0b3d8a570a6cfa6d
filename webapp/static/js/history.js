// /me: the polls this phone voted in, read with POST /v1/history (PROTOCOL.md 14.4),
// which the voting key kept in this browser signs; each ballot links to its receipt
// check (/r/{tx id}) and is kept in this browser (receipts_store.js) for offline use.

import { KEY_NAME } from "./enroll.js";
import { loadKey } from "./keystore.js";
import { RpcFailure, errorText, rpc, text } from "./page.js";
import { trackingOfBody } from "./booth.js";
import { listReceipts, saveReceipt } from "./receipts_store.js";
import { historyRequest } from "./statements.js";

const PAGE_RECORDS = 20;
const SHORT_ID_CHARS = 12;
const TITLES_KEY = "votechain.poll-titles";

const article = document.querySelector("article.history");
const status = document.getElementById("history-status");
const list = document.getElementById("history-list");
const more = document.getElementById("history-more");
const when = new Intl.DateTimeFormat(document.documentElement.lang, {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "Asia/Seoul",
});
const polls = new Map(); // poll id -> its <ul> of ballots
const titles = new Map(); // poll id -> Promise of its title

let key = null;
let nextFrom = 0;

async function main() {
  try {
    key = await loadKey(KEY_NAME);
  } catch {
    key = null; // no IndexedDB (a private window may refuse it): as good as no key
  }
  if (!key) {
    document.getElementById("history-no-key").hidden = false;
    return;
  }
  more.textContent = text("more");
  more.addEventListener("click", () => readPage());
  await readPage();
}

async function readPage() {
  more.hidden = true;
  status.textContent = text("loading");
  let answer;
  try {
    const request = await historyRequest(key, article.dataset.chainId, Date.now(), {
      from: nextFrom,
      limit: PAGE_RECORDS,
    });
    answer = await rpc("/v1/history", { method: "POST", json: request });
  } catch (error) {
    if (error instanceof RpcFailure && error.code === "network" && nextFrom === 0) {
      await showSaved();
    } else if (error instanceof RpcFailure && error.code === "not_permitted") {
      status.textContent = text("not_enrolled");
      document.getElementById("history-enroll").hidden = false;
    } else {
      status.textContent = errorText(error);
      more.hidden = nextFrom === 0;
    }
    return;
  }
  if (answer.total === 0) {
    status.textContent = text("empty");
    return;
  }
  status.textContent = text("count", { total: answer.total });
  const saving = [];
  for (const record of answer.records) {
    const { committed } = record;
    addBallot(record.poll_id, record.tx_id, record.height, committed?.header?.timestamp_ms);
    showTracking(record.tx_id, committed?.tx?.body);
    saving.push(saveReceipt(record.committed)); // a copy for offline and for hidden ballots
  }
  nextFrom = answer.next_from;
  more.hidden = nextFrom === null;
  await Promise.allSettled(saving);
}

/** Without the node: the receipts this browser kept, as the same list. */
async function showSaved() {
  let saved = [];
  try {
    saved = await listReceipts();
  } catch {
    saved = [];
  }
  const ballots = saved
    .map((record) => record.committed)
    .filter((committed) => committed?.tx?.kind === "cast_ballot")
    .sort((a, b) => a.height - b.height);
  if (!ballots.length) {
    status.textContent = text("no_saved");
    return;
  }
  status.textContent = text("offline");
  for (const committed of ballots) {
    const pollId = committed.tx.body?.poll_id;
    addBallot(pollId, committed.tx.tx_id, committed.height, committed.header?.timestamp_ms, false);
    showTracking(committed.tx.tx_id, committed.tx.body);
  }
}

function addBallot(pollId, txId, height, timestampMs, online = true) {
  let ballots = polls.get(pollId);
  if (!ballots) {
    const item = document.createElement("li");
    item.className = "history-poll";
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = `/p/${pollId.slice(0, SHORT_ID_CHARS)}`;
    const kept = rememberedTitles()[pollId];
    link.textContent =
      typeof kept === "string" ? kept : text("untitled", { id: pollId.slice(0, SHORT_ID_CHARS) });
    heading.append(link);
    if (online) {
      pollTitle(pollId).then((title) => {
        if (title) link.textContent = title;
      });
    }
    ballots = document.createElement("ul");
    ballots.className = "ballots";
    item.append(heading, ballots);
    list.append(item);
    polls.set(pollId, ballots);
  }
  const entry = document.createElement("li");
  entry.className = "ballot";
  const place = document.createElement("p");
  const whenText = Number.isSafeInteger(timestampMs) ? when.format(new Date(timestampMs)) : "";
  place.textContent = text("when", { height, when: whenText });
  const id = document.createElement("p");
  const label = document.createElement("span");
  label.className = "tx-label";
  label.textContent = `${text("tx")} `;
  const code = document.createElement("code");
  code.className = "hash";
  code.textContent = txId;
  id.append(label, code);
  const check = document.createElement("a");
  check.href = `/r/${txId}`;
  check.textContent = text("check");
  const checkLine = document.createElement("p");
  checkLine.append(check);
  entry.dataset.txId = txId;
  entry.append(place, id, checkLine);
  ballots.append(entry);
}

/** A secret poll's ballot: its tracking code, under its transaction id. */
async function showTracking(txId, body) {
  let code = null;
  try {
    code = await trackingOfBody(body);
  } catch {
    code = null; // not an encrypted ballot's bytes: nothing to show
  }
  const entry = [...list.querySelectorAll("li.ballot")].find((li) => li.dataset.txId === txId);
  if (code === null || !entry) return;
  const line = document.createElement("p");
  const label = document.createElement("span");
  label.className = "tx-label";
  label.textContent = `${text("tracking")} `;
  const value = document.createElement("code");
  value.className = "tracking";
  value.textContent = code;
  line.append(label, value);
  entry.querySelector("p:last-child").before(line);
}

/** A poll's title from the node, remembered in this browser for the offline list. */
function pollTitle(pollId) {
  if (!titles.has(pollId)) {
    titles.set(
      pollId,
      rpc(`/v1/polls/${pollId}`)
        .then((poll) => {
          const title = typeof poll?.title === "string" ? poll.title : null;
          if (title) rememberTitle(pollId, title);
          return title;
        })
        .catch(() => null),
    );
  }
  return titles.get(pollId);
}

function rememberedTitles() {
  try {
    const kept = JSON.parse(localStorage.getItem(TITLES_KEY) ?? "{}");
    return kept && typeof kept === "object" ? kept : {};
  } catch {
    return {};
  }
}

function rememberTitle(pollId, title) {
  try {
    localStorage.setItem(TITLES_KEY, JSON.stringify({ ...rememberedTitles(), [pollId]: title }));
  } catch {
    // storage full or refused: the offline list shows the poll's short id instead
  }
}

main();
