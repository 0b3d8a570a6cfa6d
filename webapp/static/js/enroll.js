// The enrolment step (templates/enroll_step.html): a phone number, the code sent to it,
// and this browser's voting key, made here and never leaving it. The attester's two
// endpoints are relayed by the node at this origin (webapp/enroll_relay.py); their
// answers and refusals are the attester's (docs/OPERATIONS.md).
//
// The number lives only in the phone field until the code is sent; then the field is
// emptied. The session token stays in this module's memory.

import { toHex } from "./bytes.js";
import { KeyExists, createKey, loadKey } from "./keystore.js";
import { RpcFailure, errorText, reasonText, rpc, text } from "./page.js";

export const KEY_NAME = "voter";
const VISIBLE_WAIT_MS = 15_000;
const VISIBLE_POLL_MS = 300;

/** The enrolment status of this browser's key on this node: {key, status} where status
 * is "none" (no key kept), "unknown" (kept, not enrolled), or the node's key status
 * ("active", "pending", "revoked") with `effectiveAtMs` for a pending key. */
export async function keyState() {
  const key = await loadKey(KEY_NAME);
  if (key === null) {
    return { key: null, status: "none" };
  }
  try {
    const voter = await rpc(`/v1/voters/${toHex(key.publicKey)}`);
    return { key, status: voter.status, effectiveAtMs: voter.effective_at_ms ?? null };
  } catch (error) {
    if (error instanceof RpcFailure && error.code === "not_found") {
      return { key, status: "unknown" };
    }
    throw error;
  }
}

/** A time as Seoul's clocks show it (the site says all times are Seoul time). */
export function seoulTime(ms) {
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    timeZone: "Asia/Seoul",
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(ms));
}

/** What to tell someone refused with `error`: its words, and when to try again. */
export function refusalText(error) {
  const words = errorText(error);
  if (error instanceof RpcFailure && error.retryAfterS) {
    const at = Date.now() + error.retryAfterS * 1000;
    // A lockout lasts a day: its date matters; a short wait's seconds do.
    const when =
      error.retryAfterS >= 3600
        ? seoulTime(at)
        : new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
            timeZone: "Asia/Seoul",
            timeStyle: "medium",
          }).format(new Date(at));
    return `${words} ${text("enrol_retry_at", { when })}`;
  }
  return words;
}

/** Drive the enrolment step inside `root` (the [data-enrol] element). `onEnrolled(key)`
 * runs once this browser's key is active on this node. Returns the step's state. */
export function mountEnrolment(root, { onEnrolled = () => {} } = {}) {
  const phoneForm = root.querySelector("[data-enrol-phone]");
  const codeForm = root.querySelector("[data-enrol-code]");
  const stateLine = root.querySelector("[data-enrol-state]");
  const message = root.querySelector("[data-enrol-message]");
  const phoneInput = phoneForm.querySelector("input");
  const codeInput = codeForm.querySelector("input");
  let session = null;
  let replace = false;

  const say = (line) => {
    stateLine.textContent = line;
  };
  const warn = (line) => {
    message.textContent = line;
    message.hidden = !line;
  };
  const busy = (form, on) => {
    for (const button of form.querySelectorAll("button")) {
      button.disabled = on;
    }
    form.setAttribute("aria-busy", String(on));
  };
  const askPhone = () => {
    session = null;
    codeForm.hidden = true;
    codeInput.value = "";
    phoneForm.hidden = false;
  };

  async function check() {
    root.hidden = false;
    if (!globalThis.crypto?.subtle || !globalThis.indexedDB) {
      say(text("enrol_no_crypto"));
      phoneForm.hidden = true;
      return "unavailable";
    }
    say(text("enrol_checking"));
    const state = await keyState();
    if (state.status === "active") {
      say(text("enrol_active"));
      phoneForm.hidden = true;
      await onEnrolled(state.key);
      return "active";
    }
    if (state.status === "pending") {
      say(text("enrol_pending", { when: seoulTime(state.effectiveAtMs) }));
      phoneForm.hidden = true;
      return "pending";
    }
    replace = state.status === "revoked";
    say(replace ? text("enrol_revoked") : "");
    askPhone();
    return state.status;
  }

  phoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = phoneInput.value.trim();
    if (!phone) {
      warn(text("enrol_phone_missing"));
      phoneInput.focus();
      return;
    }
    warn("");
    busy(phoneForm, true);
    say(text("enrol_sending"));
    try {
      const started = await rpc("/v1/enroll/start", { method: "POST", json: { phone } });
      session = started.session;
      phoneInput.value = ""; // the number is not kept on the page after this step
      phoneForm.hidden = true;
      codeForm.hidden = false;
      say(text("enrol_code_sent", { minutes: Math.max(1, Math.round(started.expires_in_s / 60)) }));
      codeInput.focus();
    } catch (error) {
      say("");
      warn(refusalText(error));
      phoneInput.focus();
    } finally {
      busy(phoneForm, false);
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = codeInput.value.trim();
    if (!code) {
      warn(text("enrol_code_missing"));
      codeInput.focus();
      return;
    }
    warn("");
    busy(codeForm, true);
    say(text("enrol_finishing"));
    try {
      const key = await voterKey(replace);
      if (key.kind !== "webcrypto") {
        say(text("enrol_fallback_key"));
      }
      const answer = await rpc("/v1/enroll/finish", {
        method: "POST",
        json: { session, code, voter_key: toHex(key.publicKey) },
      });
      replace = false;
      await finished(answer, key);
    } catch (error) {
      say("");
      warn(refusalText(error));
      if (sessionEnded(error)) {
        warn(`${refusalText(error)} ${text("enrol_start_again")}`);
        askPhone();
        phoneInput.focus();
      } else {
        codeInput.select();
        codeInput.focus();
      }
    } finally {
      busy(codeForm, false);
    }
  });

  root.querySelector("[data-enrol-restart]").addEventListener("click", () => {
    warn("");
    say("");
    askPhone();
    phoneInput.focus();
  });

  async function finished(answer, key) {
    if (!answer.receipt?.accepted) {
      say("");
      warn(text("enrol_refused", { reason: reasonText(answer.receipt?.code ?? "") }));
      return;
    }
    codeForm.hidden = true;
    if (answer.voter_status === "pending") {
      say(text("enrol_pending", { when: seoulTime(answer.effective_at_ms) }));
      return;
    }
    say(text("enrol_waiting_node"));
    await untilActive(key);
    say(text("enrol_done"));
    await onEnrolled(key);
  }

  return { check };
}

/** A finish refused so that the session is gone: expired, out of attempts, or the
 * number locked (which ends its sessions); only a new start helps. */
function sessionEnded(error) {
  if (!(error instanceof RpcFailure)) {
    return false;
  }
  return (
    error.code === "code_expired" ||
    error.code === "locked_out" ||
    (error.code === "too_many_attempts" && !error.retryAfterS)
  );
}

/** This browser's key: the one kept, or a new one (replacing a revoked one). */
async function voterKey(replace) {
  if (!replace) {
    const kept = await loadKey(KEY_NAME);
    if (kept !== null) {
      return kept;
    }
  }
  try {
    return await createKey(KEY_NAME, { replace });
  } catch (error) {
    if (error instanceof KeyExists) {
      return loadKey(KEY_NAME); // another tab made it a moment ago
    }
    throw error;
  }
}

/** The attester saw the enrolment commit at a validator; this node may apply that block
 * a moment later, and a ballot sent before then would be refused not_enrolled. */
async function untilActive(key) {
  const deadline = Date.now() + VISIBLE_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const voter = await rpc(`/v1/voters/${toHex(key.publicKey)}`);
      if (voter.status === "active") {
        return;
      }
    } catch {
      // not visible here yet
    }
    await new Promise((resolve) => setTimeout(resolve, VISIBLE_POLL_MS));
  }
}

// The /enroll page hosts one step of its own.
const page = document.querySelector("[data-enrol-page] [data-enrol]");
if (page) {
  mountEnrolment(page).check().catch((error) => {
    const line = page.querySelector("[data-enrol-state]");
    line.textContent = errorText(error);
  });
}
