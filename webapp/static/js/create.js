// /new: a citizen poll made in the browser (templates/create.html).
//
// The form becomes a create_poll dict (the form poll files and the RPC use). The node
// previews it (POST /new/preview: the rules `votechain poll create` checks before it
// submits, and the poll rendered as its page will look); the citizen's voter key then
// signs it here and it goes to POST /v1/tx like any transaction. Texts come from the
// page (page.js); nothing typed is cleared when a step fails.

import { toHex } from "./bytes.js";
import { BodyError, buildBody } from "./bodies.js";
import { DecodeError } from "./encoding.js";
import { passwordGateKey } from "./gatekeys.js";
import { loadKey } from "./keystore.js";
import { SALT_SIZE } from "./limits.js";
import { RpcFailure, errorText, reasonText, submitAndWaitForCommit, text } from "./page.js";
import { randomNonce, signTransaction } from "./tx.js";

const VOTER_KEY = "voter";
const SEOUL_OFFSET_MS = 9 * 3600 * 1000; // Korea has kept UTC+9 all year since 1988
const SHORT_ID_CHARS = 12;
const DETAILED_REASONS = new Set(["invalid_poll", "bad_schedule"]);

const form = document.getElementById("create-form");
const questions = document.getElementById("questions");
const status = document.getElementById("status");
const problem = document.getElementById("problem");
const preview = document.getElementById("preview");
const previewBody = document.getElementById("preview-body");
const createButton = document.getElementById("create-button");
const passwordField = document.getElementById("password-field");

/** "2026-12-01T09:00" typed as Seoul time, in ms since 1970; null if not a time. */
export function seoulMs(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0));
  return Date.UTC(y, mo - 1, d, h, mi, s) - SEOUL_OFFSET_MS;
}

function say(message) {
  status.textContent = message;
}

function clearProblem() {
  problem.hidden = true;
  problem.replaceChildren();
  for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
}

/** Show what refuses the poll; `fragment` is the node's rendered problem (HTML). */
function showProblem({ message = null, fragment = null, control = null } = {}) {
  problem.replaceChildren();
  if (fragment !== null) {
    problem.append(...new DOMParser().parseFromString(fragment, "text/html").body.childNodes);
    const detail = problem.querySelector("[data-field], [data-question]");
    control ??= controlNamed(detail?.dataset.field, detail?.dataset.question);
  } else {
    const paragraph = document.createElement("p");
    paragraph.textContent = message;
    problem.append(paragraph);
  }
  problem.hidden = false;
  say("");
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  } else {
    problem.scrollIntoView({ block: "nearest" });
  }
}

function controlNamed(field, question) {
  if (question) return questions.querySelectorAll("[data-question]")[Number(question) - 1]?.querySelector("input");
  return field ? document.getElementById(field) : null;
}

// ---- questions and options: add, remove, renumber -----------------------------------

function renumber() {
  const blocks = [...questions.querySelectorAll("[data-question]")];
  blocks.forEach((block, q) => {
    block.querySelector("legend [data-number]").textContent = String(q + 1);
    relabel(block.querySelector('[data-field="text"]'), `q${q}-text`);
    relabel(block.querySelector('[data-field="min"]'), `q${q}-min`);
    relabel(block.querySelector('[data-field="max"]'), `q${q}-max`);
    const rows = [...block.querySelectorAll("[data-option]")];
    rows.forEach((row, o) => {
      row.querySelector("[data-number]").textContent = String(o + 1);
      relabel(row.querySelector("input"), `q${q}-o${o}`);
      row.querySelector("[data-remove-option]").disabled = rows.length <= Number(questions.dataset.minOptions);
    });
    block.querySelector("[data-add-option]").disabled = rows.length >= Number(questions.dataset.maxOptions);
    block.querySelector("[data-remove-question]").disabled = blocks.length <= 1;
  });
  document.getElementById("add-question").disabled = blocks.length >= Number(questions.dataset.max);
}

function relabel(input, id) {
  const label = input.closest(".field, [data-option]").querySelector("label");
  input.id = id;
  label.htmlFor = id;
}

function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

questions.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const block = button.closest("[data-question]");
  if (button.hasAttribute("data-add-option")) {
    const row = fromTemplate("option-template");
    block.querySelector(".option-list").append(row);
    renumber();
    row.querySelector("input").focus();
  } else if (button.hasAttribute("data-remove-option")) {
    const list = button.closest(".option-list");
    button.closest("[data-option]").remove();
    renumber();
    list.querySelector("input")?.focus();
  } else if (button.hasAttribute("data-remove-question")) {
    block.remove();
    renumber();
    questions.querySelector("input")?.focus();
  } else {
    return;
  }
  changed();
});

document.getElementById("add-question").addEventListener("click", () => {
  const block = fromTemplate("question-template");
  questions.append(block);
  renumber();
  changed();
  block.querySelector("input").focus();
});

// ---- the dict ----------------------------------------------------------------------

function accessChoice() {
  return form.elements.access.value;
}

/** The password's problem by the CLI's rule (cli/poll_file.py), or null. */
function passwordProblem(password) {
  const least = Number(form.dataset.minPassword);
  const distinct = Number(form.dataset.minDistinct);
  const characters = [...password];
  if (characters.length < least) return text("password_short", { n: characters.length, min: least });
  const different = new Set(characters).size;
  if (different < distinct) return text("password_plain", { n: different, min: distinct });
  return null;
}

function whole(input) {
  const value = input.value.trim();
  return /^\d+$/.test(value) ? Number(value) : value; // not a number: the rules name the field
}

/** The form as a create_poll dict; `access` filled in by the caller. Throws
 * {control, message} for what the form itself can tell (times, password). */
function pollDict(access) {
  const opens = seoulMs(form.elements.opens.value);
  const closes = seoulMs(form.elements.closes.value);
  for (const [value, control] of [
    [opens, form.elements.opens],
    [closes, form.elements.closes],
  ]) {
    if (value === null) throw { control, message: text("bad_time") };
  }
  return {
    kind: "citizen",
    org_id: "",
    title: form.elements.title.value,
    purpose: form.elements.purpose.value,
    reference_url: form.elements.reference_url.value.trim(),
    opens_at_ms: opens,
    closes_at_ms: closes,
    visibility: form.elements.visibility.value,
    revote: form.elements.revote.checked,
    questions: [...questions.querySelectorAll("[data-question]")].map((block) => ({
      text: block.querySelector('[data-field="text"]').value,
      options: [...block.querySelectorAll('[data-field="option"]')].map((input) => input.value),
      min_selections: whole(block.querySelector('[data-field="min"]')),
      max_selections: whole(block.querySelector('[data-field="max"]')),
    })),
    access,
  };
}

function checkedPassword() {
  const password = form.elements.password.value;
  const wrong = passwordProblem(password);
  if (wrong !== null) throw { control: form.elements.password, message: wrong };
  return password;
}

/** What the preview shows of the access: the settings' shape, with stand-in keys (the
 * real gate key is derived once, when the poll is created). */
function previewAccess() {
  if (accessChoice() !== "password") return {};
  checkedPassword();
  return { password_gate_key: "00".repeat(32), password_salt: "00".repeat(SALT_SIZE) };
}

// ---- preview and creation ----------------------------------------------------------

let previewed = false;

function changed() {
  if (previewed) {
    previewed = false;
    preview.hidden = true;
    say(text("stale"));
  }
}

form.addEventListener("input", changed);
form.addEventListener("change", () => {
  passwordField.hidden = accessChoice() !== "password";
});

/** Ask the node to check and render the poll; true if it would be accepted. */
async function checkWithNode(dict) {
  say(text("checking"));
  let response;
  try {
    response = await fetch("/new/preview", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(dict),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (cause) {
    showProblem({ message: text("failed", { error: errorText(new RpcFailure(0, { error: "network", message: String(cause) }, null)) }) });
    return false;
  }
  const html = await response.text();
  if (!response.ok) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const message = page.querySelector(".message")?.textContent ?? `HTTP ${response.status}`;
    showProblem({ message: text("failed", { error: message }) });
    return false;
  }
  const fragment = new DOMParser().parseFromString(html, "text/html").body;
  if (fragment.querySelector("[data-refused]")) {
    showProblem({ fragment: html });
    return false;
  }
  previewBody.replaceChildren(...fragment.childNodes);
  return true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearProblem();
  let dict;
  try {
    dict = pollDict(previewAccess());
  } catch (wrong) {
    if (wrong instanceof Error) throw wrong;
    showProblem(wrong);
    return;
  }
  if (!(await checkWithNode(dict))) return;
  previewed = true;
  preview.hidden = false;
  say(text("previewed"));
  document.getElementById("preview-heading").focus();
});

createButton.addEventListener("click", async () => {
  clearProblem();
  createButton.disabled = true;
  try {
    await create();
  } finally {
    createButton.disabled = false;
  }
});

async function create() {
  const key = await loadKey(VOTER_KEY);
  if (key === null) {
    document.getElementById("no-key").hidden = false;
    showProblem({ message: text("no_key") });
    return;
  }
  let bytes;
  try {
    let access = {};
    if (accessChoice() === "password") {
      const password = checkedPassword();
      say(text("deriving"));
      const salt = crypto.getRandomValues(new Uint8Array(SALT_SIZE));
      const gate = await passwordGateKey(password, salt);
      access = { password_gate_key: toHex(gate.publicKey), password_salt: toHex(salt) };
    }
    const body = buildBody("create_poll", pollDict(access));
    say(text("signing"));
    ({ bytes } = await signTransaction(key, form.dataset.chainId, "create_poll", body, randomNonce()));
  } catch (wrong) {
    if (wrong instanceof BodyError || wrong instanceof DecodeError) {
      // DecodeError: the signed transaction is over the size limit (a very long poll)
      showProblem({ message: text("body_error", { detail: wrong.message }) });
    } else if (wrong instanceof Error) {
      showProblem({ message: text("failed", { error: wrong.message }) });
    } else {
      showProblem(wrong);
    }
    return;
  }
  say(text("sending"));
  let answer;
  try {
    answer = await submitAndWaitForCommit(bytes);
  } catch (error) {
    showRefusal(error);
    return;
  }
  const receipt = answer.receipt;
  if (!receipt) {
    showProblem({ message: text("failed", { error: errorText(new RpcFailure(504, { error: "timeout" }, null)) }) });
    return;
  }
  if (!receipt.accepted) {
    showProblem({ message: text("refused", { reason: reasonText(receipt.code) }) });
    return;
  }
  say(text("created"));
  window.location.assign(`/p/${answer.tx.tx_id.slice(0, SHORT_ID_CHARS)}`);
}

function showRefusal(error) {
  if (!(error instanceof RpcFailure) || !error.reason) {
    showProblem({ message: text("failed", { error: errorText(error) }) });
    return;
  }
  let message = text("refused", { reason: reasonText(error.reason) });
  // The node names the field for the stateless poll rules: "... (invalid_poll): question 2: ..."
  const detail = String(error.document?.message ?? "").split("): ").slice(1).join("): ");
  if (DETAILED_REASONS.has(error.reason) && detail) {
    message += " " + text("detail", { detail });
  }
  showProblem({ message });
}

async function showKeyState() {
  if ((await loadKey(VOTER_KEY)) === null) document.getElementById("no-key").hidden = false;
}

renumber();
passwordField.hidden = accessChoice() !== "password";
showKeyState();
