// The web app's service worker: the app opens offline, and never acts on its own.
//
// Served at /sw.js by webapp/shell.py, which puts `const SHELL = {version, files, pages}`
// before this text (this file as /static/sw.js is not a working worker).
//
// - The shell (stylesheet, ES modules, vendored libraries, icons, the offline page and the
//   citizen's history page) is fetched at install into a cache named by SHELL.version,
//   and served from there: a new release is a new version, whose worker fetches it all
//   again and deletes the old caches once it takes over.
// - Pages are network first: they show live counts and statuses. A copy of each page
//   that loaded is kept; when the node cannot be reached, the kept copy is shown, marked
//   so the page says it is a saved copy (install.js shows the banner), else the offline
//   page.
// - Nothing but GET is touched: a POST (a ballot, an enrolment, a new poll) goes to the
//   network or fails; it is never cached, queued or sent again later. The RPC (/v1/...)
//   is never answered from a cache either: what a script reads from it is live.

const CACHE_PREFIX = "votechain-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${SHELL.version}`;
const PAGES_CACHE = `${CACHE_PREFIX}pages-${SHELL.version}`;
const MAX_PAGES = 50;
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
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(shellFile(request));
  }
});

async function install() {
  const shell = await caches.open(SHELL_CACHE);
  // `no-cache`: the files as the node has them now, not as the browser's HTTP cache
  // remembers them from the release before.
  const wanted = [...SHELL.files, ...SHELL.pages].map((url) => new Request(url, { cache: "no-cache" }));
  await shell.addAll(wanted);
  // The new version takes over the open tabs at once: their next page is the new
  // release's, and so must be its stylesheet and modules (a page already open keeps the
  // modules it loaded).
  await self.skipWaiting();
}

async function activate() {
  const keep = new Set([SHELL_CACHE, PAGES_CACHE]);
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && !keep.has(name)) await caches.delete(name);
  }
  await self.clients.claim();
  await keepOpenPages();
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
        await keep(new Request(url), response);
      }
    } catch (error) {
      // Offline already: nothing to copy.
    }
  }
}

async function shellFile(request) {
  const shell = await caches.open(SHELL_CACHE);
  return (await shell.match(request)) ?? fetch(request);
}

async function page(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return savedPage(request);
  }
  const type = response.headers.get("Content-Type") ?? "";
  if (response.status === 200 && type.startsWith("text/html")) {
    await keep(request, response.clone());
  }
  return response;
}

async function keep(request, response) {
  try {
    const pages = await caches.open(PAGES_CACHE);
    await pages.put(request, response);
    const kept = await pages.keys();
    for (const old of kept.slice(0, Math.max(0, kept.length - MAX_PAGES))) await pages.delete(old);
  } catch (error) {
    // A full disk loses the copy, never the page.
  }
}

async function savedPage(request) {
  const options = { ignoreVary: true };
  const pages = await caches.open(PAGES_CACHE);
  const shell = await caches.open(SHELL_CACHE);
  const saved =
    (await pages.match(request, options)) ??
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
