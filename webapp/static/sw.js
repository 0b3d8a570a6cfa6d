// The web app's service worker: the app opens offline, and never acts on its own.
//
// Served at /sw.js by webapp/shell.py, which puts `const SHELL = {version, files, pages,
// rpc}` before this text (this file as /static/sw.js is not a working worker).
//
// - The shell (stylesheet, ES modules, vendored libraries, icons, the offline page and the
//   citizen's history page) is fetched at install into a cache named by SHELL.version,
//   and served from there: a new release is a new version, whose worker fetches it all
//   again and deletes the old caches once it takes over.
// - Pages are network first: they show live counts and statuses. A copy of each page
//   that loaded is kept; when the node cannot be reached, the kept copy is shown, marked
//   so the page says it is a saved copy (install.js shows the banner), else the offline
//   page.
// - Images a kept page shows (a poll's pictures from /v1/images/<sha256>, which never
//   change, and its QR code) are kept as they load, the last MAX_IMAGES, and shown from
//   the copy when the node cannot be reached.
// - The receipt check page (/r/<tx id>) of every receipt the citizen saved in the browser
//   (static/js/receipts_store.js) is kept too, after any page that loaded live, so that a
//   receipt listed by the history page offline can be opened and checked there.
// - Nothing but GET is touched: a POST (a ballot, an enrolment, a new poll) goes to the
//   network or fails; it is never cached, queued or sent again later. The RPC (/v1/...)
//   is never answered from a cache either: what a script reads from it is live. The one
//   exception, SHELL.rpc, is the chain's genesis, which never changes for a chain: its
//   kept copy answers only when the node cannot be reached, so a saved receipt can still
//   be checked offline.

const CACHE_PREFIX = "votechain-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${SHELL.version}`;
const PAGES_CACHE = `${CACHE_PREFIX}pages-${SHELL.version}`;
const RECEIPTS_CACHE = `${CACHE_PREFIX}receipts-${SHELL.version}`;
const IMAGES_CACHE = `${CACHE_PREFIX}images-${SHELL.version}`;
const MAX_IMAGES = 100;
const MAX_PAGES = 50;
const MAX_RECEIPT_PAGES = 100;
const RECEIPTS_DATABASE = "votechain-receipts"; // receipts_store.js's database and store
const RECEIPTS_STORE = "receipts";
const TX_ID = /^[0-9a-f]{64}$/;
const SAVED_COPY = "data-saved-copy";
const OFFLINE_PAGE = SHELL.pages[0];

self.addEventListener("install", (event) => {
  event.waitUntil(install());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(activate());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    const answer = page(request);
    event.respondWith(answer.then(({ response }) => response));
    event.waitUntil(answer.then(({ live }) => (live ? keepReceiptPages() : undefined)));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(shellFile(request));
  } else if (SHELL.rpc.includes(url.pathname) && url.search === "") {
    event.respondWith(liveOrKept(request));
  } else if (request.destination === "image") {
    event.respondWith(image(request));
  }
});

async function install() {
  const shell = await caches.open(SHELL_CACHE);
  // `no-cache`: the files as the node has them now, not as the browser's HTTP cache
  // remembers them from the release before.
  const wanted = [...SHELL.files, ...SHELL.pages, ...SHELL.rpc].map((url) => new Request(url, { cache: "no-cache" }));
  await shell.addAll(wanted);
  // The new version takes over the open tabs at once: their next page is the new
  // release's, and so must be its stylesheet and modules (a page already open keeps the
  // modules it loaded).
  await self.skipWaiting();
}

async function activate() {
  const keep = new Set([SHELL_CACHE, PAGES_CACHE, RECEIPTS_CACHE, IMAGES_CACHE]);
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && !keep.has(name)) await caches.delete(name);
  }
  await self.clients.claim();
  await keepOpenPages();
  await keepReceiptPages();
}

/** The pages open when the worker first takes over loaded before it could keep them: a
 * copy of each now, so the page a citizen just saw is there offline. */
async function keepOpenPages() {
  for (const client of await self.clients.matchAll({ type: "window" })) {
    const url = new URL(client.url);
    if (url.origin !== self.location.origin) continue;
    url.hash = "";
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      const type = response.headers.get("Content-Type") ?? "";
      if (response.status === 200 && type.startsWith("text/html")) {
        await keep(new Request(url), response.clone());
        await keepImagesOf(await response.text());
      }
    } catch (error) {
      // Offline already: nothing to copy.
    }
  }
}

/** An answer that never changes for a chain: the node's, kept; the kept one offline. */
async function liveOrKept(request) {
  const shell = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) await shell.put(request.url, response.clone());
    return response;
  } catch (error) {
    return (await shell.match(request.url)) ?? Response.error();
  }
}

async function shellFile(request) {
  const shell = await caches.open(SHELL_CACHE);
  return (await shell.match(request)) ?? fetch(request);
}

/** {response, live}: the node's answer, or a saved copy when it cannot be reached. */
async function page(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return { response: await savedPage(request), live: false };
  }
  const type = response.headers.get("Content-Type") ?? "";
  if (response.status === 200 && type.startsWith("text/html")) {
    await keep(request, response.clone());
  }
  return { response, live: true };
}

async function keep(request, response, cacheName = PAGES_CACHE, most = MAX_PAGES) {
  try {
    const cache = await caches.open(cacheName);
    await cache.put(request, response);
    const kept = await cache.keys();
    for (const old of kept.slice(0, Math.max(0, kept.length - most))) await cache.delete(old);
  } catch (error) {
    // A full disk loses the copy, never the page.
  }
}

/** The same-origin images an already open page shows: it loaded them before the worker
 * could keep them. */
async function keepImagesOf(html) {
  const sources = [...html.matchAll(/<img\b[^>]*\ssrc="(\/[^"/][^"]*)"/g)].map((m) => m[1]);
  for (const source of sources.slice(0, MAX_IMAGES)) {
    const url = new URL(source.replaceAll("&amp;", "&"), self.location.origin);
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.status === 200) await keep(new Request(url), response, IMAGES_CACHE, MAX_IMAGES);
  }
}

async function image(request) {
  try {
    const response = await fetch(request);
    if (response.status === 200) await keep(request, response.clone(), IMAGES_CACHE, MAX_IMAGES);
    return response;
  } catch (error) {
    const images = await caches.open(IMAGES_CACHE);
    return (await images.match(request, { ignoreVary: true })) ?? Response.error();
  }
}

async function savedPage(request) {
  const options = { ignoreVary: true };
  const pages = await caches.open(PAGES_CACHE);
  const shell = await caches.open(SHELL_CACHE);
  const receipts = await caches.open(RECEIPTS_CACHE);
  const saved =
    (await pages.match(request, options)) ??
    (await receipts.match(request, options)) ??
    (await shell.match(request, options)) ??
    (await shell.match(OFFLINE_PAGE, options));
  if (saved === undefined) return Response.error();
  return markedSavedCopy(saved);
}

/** The kept page with `data-saved-copy` on its <html>: install.js then says it is not
 * live, even when the browser believes it is online (the node is down, not the phone). */
async function markedSavedCopy(response) {
  const html = (await response.text()).replace("<html ", `<html ${SAVED_COPY} `);
  return new Response(html, { status: 200, statusText: "OK", headers: response.headers });
}

/** Keep the check page of each saved receipt not kept yet (most recent first), and drop
 * the pages of receipts no longer saved. One request per new receipt, once: a page
 * costs the node a block read. Stops at the first failure (busy, rate limited, offline):
 * the next live page tries again. */
async function keepReceiptPages() {
  try {
    const wanted = (await savedReceiptIds()).slice(0, MAX_RECEIPT_PAGES);
    const urls = new Set(wanted.map((txId) => new URL(`/r/${txId}`, self.location.origin).href));
    const receipts = await caches.open(RECEIPTS_CACHE);
    for (const request of await receipts.keys()) {
      if (!urls.has(request.url)) await receipts.delete(request);
    }
    for (const url of urls) {
      if (await receipts.match(url)) continue;
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.status !== 200) return;
      await receipts.put(url, response);
    }
  } catch (error) {
    // Offline, or no room: the pages stay as they are.
  }
}

/** The tx ids of the receipts saved in this browser, most recently saved first; none
 * when the citizen never saved one (the database is then not created here). */
function savedReceiptIds() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(RECEIPTS_DATABASE);
    opening.onupgradeneeded = () => opening.transaction.abort(); // receipts_store.js's to make
    opening.onerror = () => resolve([]);
    opening.onsuccess = () => {
      const database = opening.result;
      if (!database.objectStoreNames.contains(RECEIPTS_STORE)) {
        database.close();
        resolve([]);
        return;
      }
      const reading = database.transaction(RECEIPTS_STORE).objectStore(RECEIPTS_STORE).getAll();
      reading.onsuccess = () => {
        database.close();
        const records = reading.result.filter((r) => typeof r?.txId === "string" && TX_ID.test(r.txId));
        records.sort((a, b) => (b.savedAtMs ?? 0) - (a.savedAtMs ?? 0));
        resolve(records.map((r) => r.txId));
      };
      reading.onerror = () => {
        database.close();
        reject(reading.error);
      };
    };
  });
}
