// The voting form of an open poll (templates/vote_form.html): the selection rules
// checked before anything is sent, the poll's access proved (password, QR link, on-site
// ticket, location), cast_ballot signed with this browser's key and sent, and the
// chain's answer shown. Nothing typed or chosen is cleared when a submission fails.
//
// A QR poll's link carries its secret in the fragment: /p/<id>#qr=<64 hex>. Browsers
// never send a fragment to the server, and the site's Referrer-Policy is no-referrer.
// A ticket's link may carry it the same way: #ticket=<64 hex>.

import { buildBody } from "./bodies.js";
import { auditBallot, encryptBallot, forgetSecrets, pollKey, ruleOfQuestion } from "./booth.js";
import { fromHex, toHex } from "./bytes.js";
import { signerFromSeed } from "./ed25519.js";
import { KEY_NAME, keyState, mountEnrolment, refusalText, seoulTime } from "./enroll.js";
import { gateProof, passwordGateKey, ticketProof } from "./gatekeys.js";
import { createKey, loadKey } from "./keystore.js";
import { RpcFailure, reasonText, rpc, submitAndWaitForCommit, text } from "./page.js";
import { saveReceipt } from "./receipts_store.js";
import { randomNonce, signTransaction } from "./tx.js";

const SEED_HEX = /^[0-9a-f]{64}$/;
const LOCATION_TIMEOUT_MS = 20_000;

/** Secrets from the URL fragment (#qr=...&ticket=...), lower-cased; never sent anywhere. */
export function fragmentSecrets(hash) {
  const found = {};
  for (const part of hash.replace(/^#/, "").split("&")) {
    const [name, value = ""] = part.split("=");
    if ((name === "qr" || name === "ticket") && SEED_HEX.test(value.toLowerCase())) {
      found[name] = value.toLowerCase();
    }
  }
  return found;
}

/** A question's problem with `chosen` (option indices) as a page text, or null. */
export function selectionProblem(rule, chosen, costs, format) {
  const n = chosen.length;
  if (n < rule.min || n > rule.max) {
    return rule.min === rule.max
      ? text("vote_sel_exact", { n: rule.min, chosen: n })
      : text("vote_sel_range", { low: rule.min, high: rule.max, chosen: n });
  }
  if (rule.cap !== null) {
    const spent = chosen.reduce((sum, i) => sum + costs[i], 0);
    if (spent > rule.cap) {
      return text("vote_over_budget", { over: format(spent - rule.cap), cap: format(rule.cap) });
    }
    if (spent * 100 < rule.cap * rule.minSpend) {
      const least = Math.ceil((rule.cap * rule.minSpend) / 100);
      return text("vote_under_spend", { least: format(least), percent: rule.minSpend });
    }
  }
  return null;
}

class Refusal extends Error {}

function mount(section) {
  const ui = section.querySelector("[data-vote-ui]");
  const form = section.querySelector("[data-vote-form]");
  const enrolBox = section.querySelector("[data-vote-enrol]");
  const formError = section.querySelector("[data-vote-error]");
  const status = section.querySelector("[data-vote-status]");
  const outcome = section.querySelector("[data-vote-outcome]");
  const pollId = section.dataset.pollId;
  const takesTickets = section.dataset.tickets === "true";
  const secret = section.dataset.secret === "true";
  const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const format = (n) => numbers.format(n);
  const secrets = fragmentSecrets(location.hash);
  ui.hidden = false;

  const questions = [...form.querySelectorAll("[data-question]")].map((fieldset) => ({
    fieldset,
    inputs: [...fieldset.querySelectorAll("input")],
    error: fieldset.querySelector("[data-question-error]"),
    total: fieldset.querySelector("[data-budget-total]"),
    rule: {
      min: Number(fieldset.dataset.min),
      max: Number(fieldset.dataset.max),
      cap: fieldset.dataset.cap === undefined ? null : Number(fieldset.dataset.cap),
      minSpend: Number(fieldset.dataset.minSpend ?? 0),
    },
  }));
  const chosenOf = (q) => q.inputs.filter((i) => i.checked).map((i) => Number(i.value));
  const costsOf = (q) => q.inputs.map((i) => Number(i.dataset.cost));

  // A budget's running total, and over-cap said at once, not only on submitting.
  const update = (q, judge) => {
    const chosen = chosenOf(q);
    if (q.total) {
      const spent = chosen.reduce((sum, i) => sum + costsOf(q)[i], 0);
      q.total.textContent = text("vote_budget_total", { spent: format(spent), cap: format(q.rule.cap) });
      q.total.classList.toggle("over", spent > q.rule.cap);
    }
    const problem = selectionProblem(q.rule, chosen, costsOf(q), format);
    // Over the cap is said at once; other problems once submitted, until fixed.
    const overCap = q.rule.cap !== null && chosen.reduce((s, i) => s + costsOf(q)[i], 0) > q.rule.cap;
    const shown = problem !== null && (judge || overCap || q.fieldset.classList.contains("invalid"));
    q.error.textContent = shown ? problem : "";
    q.fieldset.classList.toggle("invalid", shown);
    return problem;
  };
  for (const q of questions) {
    q.inputs.forEach((input) => input.addEventListener("change", () => update(q, false)));
    update(q, false);
  }
  const booth = secret ? mountBooth(section, questions, chosenOf) : null;

  const qrState = section.querySelector("[data-qr-state]");
  if (qrState) {
    qrState.textContent = text(secrets.qr ? "vote_qr_read" : "vote_qr_missing");
  }
  const ticketInput = section.querySelector("#vote-ticket");
  if (ticketInput && secrets.ticket) {
    ticketInput.value = secrets.ticket;
  }
  setUpScanner(section, ticketInput);

  // Who votes: this browser's key, enrolled here first unless the poll takes tickets.
  const enrolment = mountEnrolment(enrolBox.querySelector("[data-enrol]"), {
    onEnrolled: () => {
      enrolBox.hidden = true;
    },
  });
  const checked = enrolment.check().then((state) => {
    const ticketVoter = takesTickets && (state === "none" || state === "unknown");
    enrolBox.hidden = state === "active" || ticketVoter;
  });
  checked
    .catch((error) => {
      status.textContent = refusalText(error);
    })
    .finally(() => {
      section.dataset.ready = "true"; // the form shows what it will show (tests wait for it)
    });

  const say = (line) => {
    status.textContent = line;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    outcome.hidden = true;
    const problems = questions.map((q) => update(q, true));
    const first = problems.findIndex((p) => p !== null);
    if (first >= 0) {
      formError.textContent = text("vote_fix_errors");
      questions[first].inputs[0].focus();
      return;
    }
    if (document.documentElement.hasAttribute("data-offline")) {
      // A saved copy or no connection (install.js): nothing is sent, and the page says so.
      formError.textContent = text("vote_offline");
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await checked.catch(() => {});
      const key = await voterKey(takesTickets);
      if (key === null) {
        enrolBox.hidden = false;
        throw new Refusal(text("vote_need_enrol"));
      }
      const chainId = (await rpc("/v1/status")).chain_id;
      if (booth) {
        // A secret poll: encrypt here, then the voter casts or audits (mountBooth).
        await booth.encrypt(key, chainId, say, cast);
        return;
      }
      await cast({ poll_id: pollId, selections: questions.map(chosenOf) }, key, chainId);
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });

  /** Prove the access, sign the ballot `body`, send it and show the chain's answer. */
  async function cast(body, key, chainId, tracking = null) {
    await addAccessProofs(section, body, chainId, key, secrets, say);
    say(text("vote_signing"));
    const bodyBytes = buildBody("cast_ballot", body);
    const tx = await signTransaction(key, chainId, "cast_ballot", bodyBytes, randomNonce());
    say(text("vote_submitting"));
    const answer = await submitAndWaitForCommit(tx.bytes);
    say("");
    await show(answer, toHex(tx.txId), tracking);
    return answer;
  }

  function failed(error) {
    say("");
    if (error instanceof Refusal) {
      formError.textContent = error.message;
    } else if (error instanceof RpcFailure && error.reason) {
      showOutcome(`${text("vote_refused", { reason: reasonText(error.reason) })} ${text("vote_kept")}`);
    } else {
      showOutcome(`${text("vote_failed", { error: refusalText(error) })} ${text("vote_kept")}`);
    }
  }
  if (booth) {
    booth.onFailure(failed);
  }

  function showOutcome(line, more = "", txId = null) {
    outcome.querySelector("[data-outcome-text]").textContent = line;
    outcome.querySelector("[data-outcome-more]").textContent = more;
    outcome.querySelector("[data-outcome-tx]").hidden = txId === null;
    outcome.querySelector("[data-outcome-receipt]").hidden = txId === null;
    if (txId !== null) {
      outcome.querySelector("[data-tx-id]").textContent = txId;
      outcome.querySelector("[data-receipt-link]").href = `/r/${txId}`;
    }
    outcome.classList.toggle("accepted", more !== "" && txId !== null);
    outcome.hidden = false;
    outcome.focus();
  }

  async function show(answer, txId, tracking = null) {
    if (!answer?.height) {
      showOutcome(text("vote_pending"), "", txId);
      return;
    }
    if (!answer.receipt?.accepted) {
      const reason = reasonText(answer.receipt?.code ?? "");
      showOutcome(`${text("vote_refused", { reason })} ${text("vote_kept")}`, "", txId);
      return;
    }
    const lines = [];
    if (tracking !== null) {
      lines.push(text("booth_tracking", { code: tracking }));
    }
    if (section.dataset.revote === "true") {
      lines.push(text("vote_accepted_revote"));
    }
    try {
      await saveReceipt(answer);
      lines.push(text("vote_receipt_saved"));
    } catch {
      // The receipt can be fetched again from any node; the vote counted either way.
    }
    showOutcome(text("vote_accepted", { height: answer.height }), lines.join(" "), txId);
  }
}

/**
 * The booth of a secret poll (templates/vote_form.html's [data-booth]): `encrypt` makes
 * the ballot and shows its tracking code; "Cast" sends it, "Audit" checks it on this
 * device and discards it. A change of the choices discards a ballot not yet cast.
 */
function mountBooth(section, questions, chosenOf) {
  const panel = section.querySelector("[data-booth]");
  const code = panel.querySelector("[data-tracking]");
  const castButton = panel.querySelector("[data-cast]");
  const auditButton = panel.querySelector("[data-audit]");
  const report = section.querySelector("[data-audit-result]");
  const status = section.querySelector("[data-vote-status]");
  let ballot = null; // the encrypted ballot awaiting "cast" or "audit", with its secrets
  let onFailure = () => {};

  const discard = () => {
    if (ballot !== null) {
      forgetSecrets(ballot.made);
      ballot = null;
    }
    panel.hidden = true;
  };
  for (const q of questions) {
    q.inputs.forEach((input) =>
      input.addEventListener("change", () => {
        if (ballot !== null) {
          discard();
          status.textContent = text("booth_discarded");
        }
      }),
    );
  }
  const rules = questions.map((q) =>
    ruleOfQuestion({
      options: q.inputs.length,
      min: q.rule.min,
      max: q.rule.max,
      cap: q.fieldset.dataset.cap ?? null,
      minSpend: q.fieldset.dataset.minSpend ?? 0,
      costs: q.inputs.map((i) => i.dataset.cost),
    }),
  );

  async function encrypt(key, chainId, say, cast) {
    discard();
    report.hidden = true;
    const pollId = section.dataset.pollId;
    const poll = await rpc(`/v1/polls/${pollId}`);
    const publicKey = pollKey(poll);
    if (publicKey === null) {
      const failedSetup = poll?.secret?.phase === "failed";
      throw new Refusal(text(failedSetup ? "booth_key_failed" : "booth_key_waiting"));
    }
    say(text("booth_encrypting"));
    const chosen = questions.map(chosenOf);
    const voterKey = key.publicKey;
    const made = await encryptBallot({ chainId, pollId, voterKey, publicKey, rules, chosen });
    say("");
    ballot = { made, key, chainId, cast };
    code.textContent = made.trackingText;
    panel.hidden = false;
    panel.focus();
  }

  castButton.addEventListener("click", async () => {
    if (ballot === null) return;
    const { made, key, chainId, cast } = ballot;
    castButton.disabled = auditButton.disabled = true;
    try {
      const body = { poll_id: section.dataset.pollId, selections: [], encrypted: made.encrypted };
      await cast(body, key, chainId, made.trackingText);
      discard(); // sent: its secrets go, and it can never be audited
    } catch (error) {
      if (!(error instanceof Refusal)) {
        discard(); // it may have reached the chain: never audit a ballot that may count
      }
      onFailure(error);
    } finally {
      castButton.disabled = auditButton.disabled = false;
    }
  });

  auditButton.addEventListener("click", () => {
    if (ballot === null) return;
    const chosen = questions.map(chosenOf);
    const results = auditBallot(ballot.made, chosen);
    discard(); // its randomness is shown now: it must never be cast
    showAudit(results, chosen);
  });

  const nameOf = (q, i) => questions[q].inputs[i].labels[0]?.firstChild?.textContent?.trim();
  const titleOf = (q) => questions[q].fieldset.querySelector("legend").textContent.trim();
  const place = (q, option) => text("booth_audit_option", { question: titleOf(q), option });

  function showAudit(results, chosen) {
    const wrong = results.flatMap((r) => r.mismatched.map((i) => place(r.question, nameOf(r.question, i))));
    const verdict = wrong.length
      ? text("booth_audit_failed", { options: wrong.join("; ") })
      : text("booth_audit_passed");
    report.querySelector("[data-audit-verdict]").textContent = verdict;
    report.classList.toggle("failed", wrong.length > 0);
    report.querySelector("[data-audit-list]").replaceChildren(
      ...chosen.map((indices, q) => {
        const item = document.createElement("li");
        const names = indices.map((i) => nameOf(q, i));
        item.textContent = place(q, names.length ? names.join(", ") : text("booth_nothing_chosen"));
        return item;
      }),
    );
    const line = (q, i, randomness) =>
      text("booth_randomness_line", { question: q + 1, option: i + 1, randomness });
    report.querySelector("[data-audit-randomness]").textContent = results
      .flatMap((r) => r.randomness.map((hex, i) => line(r.question, i, hex)))
      .join("\n");
    report.hidden = false;
    report.focus();
  }

  return {
    encrypt,
    onFailure(handler) {
      onFailure = handler;
    },
  };
}

/** The key to sign with: the enrolled one; in a ticket poll, a key of this browser even
 * unenrolled (made now if there is none). Null: the voter must enrol first; Refusal: the
 * key waits to replace the phone's old one. */
async function voterKey(takesTickets) {
  const state = await keyState();
  if (state.status === "active") {
    return state.key;
  }
  if (takesTickets && state.status === "unknown") {
    return state.key;
  }
  if (takesTickets && state.status === "none") {
    return (await loadKey(KEY_NAME)) ?? createKey(KEY_NAME);
  }
  if (state.status === "pending") {
    throw new Refusal(text("enrol_pending", { when: seoulTime(state.effectiveAtMs) }));
  }
  return null;
}

/** The proofs the poll's access asks for, added to `body`; Refusal with the reason the
 * page can give before anything is sent. */
async function addAccessProofs(section, body, chainId, key, secrets, say) {
  const pollId = fromHex(section.dataset.pollId);
  const data = section.dataset;
  if (data.passwordGate) {
    const input = section.querySelector("#vote-password");
    if (!input.value) {
      input.focus();
      throw new Refusal(text("vote_password_missing"));
    }
    const progress = section.querySelector("[data-password-progress]");
    say(text("vote_password_working"));
    progress.hidden = false;
    let gate;
    try {
      gate = await passwordGateKey(input.value, fromHex(data.passwordSalt));
    } finally {
      progress.hidden = true;
    }
    if (toHex(gate.publicKey) !== data.passwordGate) {
      input.focus();
      throw new Refusal(text("vote_password_wrong"));
    }
    body.password_proof = toHex(await gateProof(gate, chainId, pollId, key.publicKey));
  }
  if (data.qrGate) {
    if (!secrets.qr) {
      throw new Refusal(text("vote_qr_missing"));
    }
    const gate = await signerFromSeed(fromHex(secrets.qr));
    if (toHex(gate.publicKey) !== data.qrGate) {
      throw new Refusal(text("vote_qr_wrong"));
    }
    body.qr_proof = toHex(await gateProof(gate, chainId, pollId, key.publicKey));
  }
  if (data.tickets) {
    const input = section.querySelector("#vote-ticket");
    const typed = input.value.trim().toLowerCase();
    if (!typed) {
      input.focus();
      throw new Refusal(text("vote_ticket_missing"));
    }
    const seed = ticketSeed(typed);
    if (seed === null) {
      input.focus();
      throw new Refusal(text("vote_ticket_bad"));
    }
    const ticket = await signerFromSeed(fromHex(seed));
    body.ticket_key = toHex(ticket.publicKey);
    body.ticket_signature = toHex(await ticketProof(ticket, chainId, pollId, key.publicKey));
  }
  if (data.geofence) {
    say(text("vote_locating"));
    body.location = await currentLocation();
  }
}

/** A ticket's seed from what was typed or scanned: its 64 hex characters, or a link
 * carrying them as #ticket=. */
function ticketSeed(value) {
  const cleaned = value.replace(/\s+/g, "");
  if (SEED_HEX.test(cleaned)) {
    return cleaned;
  }
  const hash = cleaned.indexOf("#");
  return hash >= 0 ? (fragmentSecrets(cleaned.slice(hash)).ticket ?? null) : null;
}

function currentLocation() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Refusal(text("vote_location_failed")));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) =>
        resolve({
          lat_micro: Math.round(position.coords.latitude * 1e6),
          lon_micro: Math.round(position.coords.longitude * 1e6),
        }),
      (error) =>
        reject(
          new Refusal(
            text(error.code === error.PERMISSION_DENIED ? "vote_location_denied" : "vote_location_failed"),
          ),
        ),
      { enableHighAccuracy: true, timeout: LOCATION_TIMEOUT_MS, maximumAge: 0 },
    );
  });
}

/** Scanning a ticket's QR code with the camera, where the browser has BarcodeDetector. */
function setUpScanner(section, input) {
  const button = section.querySelector("[data-scan-ticket]");
  const video = section.querySelector("[data-scanner]");
  if (!button || !input || !("BarcodeDetector" in globalThis) || !navigator.mediaDevices) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    let stream = null;
    try {
      const detector = new globalThis.BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      for (;;) {
        const [found] = await detector.detect(video);
        const seed = found ? ticketSeed(found.rawValue.toLowerCase()) : null;
        if (seed !== null) {
          input.value = seed;
          section.querySelector("[data-vote-status]").textContent = text("vote_ticket_scanned");
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } catch {
      section.querySelector("[data-vote-error]").textContent = text("vote_scan_failed");
    } finally {
      stream?.getTracks().forEach((track) => track.stop());
      video.hidden = true;
      input.focus();
    }
  });
}

const section = document.querySelector("[data-vote]");
if (section) {
  mount(section);
}
