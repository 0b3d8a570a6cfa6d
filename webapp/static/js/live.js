// A live poll's bars, counts and participants kept up to date on /p/... without a reload.
//
// Every few seconds it asks the node for the results worded in the page's language
// (GET /p/{poll id}/live.json, webapp/receipt_pages.py: the same words and catalogue as
// the page itself, so no text lives here), and writes them into the page the server
// rendered. It pauses while the tab is hidden, waits as long as Retry-After says on 429
// and 503, backs off when the node cannot be reached, and stops once the poll closes.
// Screen readers hear a short polite summary only when the count of participants
// changes, at most once a minute, not every update.

const INTERVAL_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;
const ANNOUNCE_EVERY_MS = 60_000;

const article = document.querySelector("article.poll[data-live]");
const url = article?.dataset.live;
const sections = article ? [...article.querySelectorAll("section.question")] : [];

let timer = null;
let delayMs = INTERVAL_MS;
let stopped = false;
let lastParticipants = null;
let lastAnnouncedAt = 0;
let pendingAnnouncement = null;
let updated = null;
let announcer = null;

function setUp() {
  updated = document.createElement("p");
  updated.className = "live-updated";
  updated.hidden = true;
  announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");
  const first = sections[0];
  if (first) {
    first.before(updated, announcer);
  } else {
    article.append(updated, announcer);
  }
  lastParticipants = document.getElementById("participants")?.textContent.trim() ?? "";
}

function schedule(ms) {
  clearTimeout(timer);
  timer = stopped || document.hidden ? null : setTimeout(refresh, ms);
}

async function refresh() {
  timer = null;
  let response;
  try {
    response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  } catch {
    delayMs = Math.min(delayMs * 2, MAX_BACKOFF_MS); // offline or node down
    schedule(delayMs);
    return;
  }
  if (response.status === 429 || response.status === 503) {
    const retryS = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    delayMs = Math.min(Math.max(delayMs * 2, INTERVAL_MS), MAX_BACKOFF_MS);
    schedule(Number.isFinite(retryS) && retryS > 0 ? Math.max(retryS * 1000, INTERVAL_MS) : delayMs);
    return;
  }
  if (!response.ok) {
    stopped = true; // the poll is gone or the link is wrong: nothing to update
    return;
  }
  let results;
  try {
    results = await response.json();
  } catch {
    schedule(delayMs);
    return;
  }
  delayMs = INTERVAL_MS;
  apply(results);
  if (!results.live) {
    stopped = true;
    return;
  }
  schedule(INTERVAL_MS);
}

function apply(results) {
  if (!results.visible) return;
  results.questions.forEach((question, qi) => {
    const section = sections[qi];
    if (!section) return;
    const items = section.querySelectorAll("ul.results > li.option");
    question.options.forEach((option, oi) => {
      const item = items[oi];
      if (!item) return;
      const fill = item.querySelector(".fill");
      if (fill) fill.className = `fill pct-${Math.max(0, Math.min(100, option.pct | 0))}`;
      const tally = item.querySelector(".tally");
      if (tally && tally.textContent !== option.tally) tally.textContent = option.tally;
      setFunded(item, option.funded, results.funded_label);
    });
    const total = section.querySelector(".funded-total");
    if (total && question.funded_total) total.textContent = question.funded_total;
  });
  setParticipants(results.participants);
  const people = article.querySelector(".facts .people");
  if (people && results.people && people.textContent !== results.people) {
    people.textContent = results.people;
  }
  updated.textContent = results.closed ? `${results.closed} ${results.updated}` : results.updated;
  updated.hidden = false;
  announce(results);
}

function setFunded(item, funded, label) {
  item.classList.toggle("funded", funded);
  const badge = item.querySelector(".badge");
  if (funded && !badge) {
    const strong = document.createElement("strong");
    strong.className = "badge";
    strong.textContent = label;
    item.querySelector(".label")?.append(strong);
  } else if (!funded && badge) {
    badge.remove();
  }
}

function setParticipants(words) {
  let line = document.getElementById("participants");
  if (!words) return;
  if (!line) {
    line = document.createElement("p");
    line.id = "participants";
    updated.before(line);
  }
  if (line.textContent !== words) line.textContent = words;
}

/** One polite announcement when the participants change, then quiet for a minute; a
 * change in that minute is announced at its end. */
function announce(results) {
  const participants = results.participants ?? "";
  if (participants === lastParticipants) return;
  lastParticipants = participants;
  pendingAnnouncement = results.announce;
  const waitMs = lastAnnouncedAt + ANNOUNCE_EVERY_MS - Date.now();
  if (waitMs <= 0) {
    speak();
  } else {
    setTimeout(speak, waitMs);
  }
}

function speak() {
  if (pendingAnnouncement === null) return;
  announcer.textContent = pendingAnnouncement;
  pendingAnnouncement = null;
  lastAnnouncedAt = Date.now();
}

if (article && url) {
  setUp();
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!stopped) {
      schedule(0); // back on the tab: bring it up to date at once
    }
  });
  schedule(INTERVAL_MS);
}
