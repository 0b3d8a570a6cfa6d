// Every page: registers the service worker (/sw.js, webapp/shell.py), says when what the
// reader sees is not live, and offers to install the app where the browser allows it.
//
// The banner's words are in the page (base.html, from the catalogue), hidden; this only
// shows it: when the browser is offline, and on a page the service worker served from
// its saved copies (`data-saved-copy` on <html>), which stays a saved copy when the
// connection comes back, until the reader loads it again.

const SAVED_COPY = "data-saved-copy";

const savedCopy = document.documentElement.hasAttribute(SAVED_COPY);
// Whether the connection came back while this page was open. A saved copy was served
// because the node could not be reached, whatever navigator.onLine says at load.
let cameBack = false;

function showWhetherLive() {
  const banner = document.getElementById("offline-banner");
  if (banner === null) return;
  const live = navigator.onLine && !savedCopy;
  banner.hidden = live;
  // Back online on a saved copy: say so, with a button that loads the page from the node.
  const onlineAgain = savedCopy && cameBack && navigator.onLine;
  const offlineWords = banner.querySelector("[data-offline-words]");
  const againWords = banner.querySelector("[data-online-again]");
  if (offlineWords !== null && againWords !== null) {
    offlineWords.hidden = onlineAgain;
    againWords.hidden = !onlineAgain;
  }
  // For the pages' own scripts: a form that sends something checks this and says so.
  document.documentElement.toggleAttribute("data-offline", !live);
}

function offerInstall() {
  const offer = document.getElementById("install-app");
  if (offer === null) return;
  let prompt = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault(); // shown by our button, not by the browser's bar
    prompt = event;
    offer.hidden = false;
  });
  offer.querySelector("button")?.addEventListener("click", async () => {
    if (prompt === null) return;
    const shown = prompt;
    prompt = null;
    offer.hidden = true;
    await shown.prompt();
  });
  window.addEventListener("appinstalled", () => {
    offer.hidden = true;
  });
}

async function registerWorker() {
  // Only secure contexts (https://, localhost) have service workers; elsewhere the pages
  // work as before, live only.
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch (error) {
    console.warn("the offline copy is not available:", error);
  }
}

// A reload, not a link: it keeps the URL's fragment (a QR poll's secret travels there).
document.querySelector("#offline-banner [data-online-again] button")?.addEventListener("click", () => {
  location.reload();
});
window.addEventListener("online", () => {
  cameBack = true;
  showWhetherLive();
});
window.addEventListener("offline", () => {
  cameBack = false;
  showWhetherLive();
});
showWhetherLive(); // a module runs once the page is parsed: the banner is there
offerInstall();
registerWorker();
