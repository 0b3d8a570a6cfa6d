// What every interactive page shares: its texts, and talking to the node's JSON RPC.
//
// Texts shown to people never live in JavaScript. The page's template renders them, in
// the reader's language from the message catalogue, into
//     <script type="application/json" id="texts">{...}</script>
// (base.html's `texts` block; not executed, so the CSP allows it): every refusal reason
// code under "reason", every RPC error code under "rpc_error", and the page's own texts
// by name. A script asks `text("name")`, `reasonText(code)`, `errorText(error)`.

let loaded = null;

function texts() {
  if (loaded === null) {
    const element = document.getElementById("texts");
    loaded = element ? JSON.parse(element.textContent) : {};
  }
  return loaded;
}

/** The page's text `name`, with %(key)s filled from `values` (as gettext's Python form). */
export function text(name, values = {}) {
  const template = texts()[name];
  if (typeof template !== "string") {
    throw new Error(`the page has no text "${name}" (add it to the template's texts block)`);
  }
  return fill(template, values);
}

export function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? "")).replace(/%%/g, "%");
}

/** A refusal reason code's message (votingcontract/reasons.py), in the page's language. */
export function reasonText(code) {
  return texts().reason?.[code] ?? code;
}

/** What to tell the reader about an RpcFailure: the chain's reason when it gave one, else
 * the RPC error code's message, else the node's own words. */
export function errorText(error) {
  if (error instanceof RpcFailure) {
    if (error.reason) return reasonText(error.reason);
    const worded = texts().rpc_error?.[error.code];
    if (worded) return worded;
  }
  return String(error.message ?? error);
}

/** A refusal by the node: `code` (node/errors.py), `reason` (the state machine's code,
 * when the chain refused), `status` (HTTP), `retryAfterS` (when trying later helps). */
export class RpcFailure extends Error {
  constructor(status, document, retryAfterS) {
    super(document?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = document?.error ?? "network";
    this.reason = document?.reason ?? null;
    this.retryAfterS = retryAfterS;
    this.document = document;
  }
}

/** GET or POST JSON to this node (same origin); the parsed answer, or RpcFailure.
 * A network failure (offline, node down) is RpcFailure with code "network". */
export async function rpc(path, { method = "GET", json = undefined, body = undefined, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: json === undefined ? headers : { "Content-Type": "application/json", ...headers },
      body: json === undefined ? body : JSON.stringify(json),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (cause) {
    throw new RpcFailure(0, { error: "network", message: String(cause) }, null);
  }
  let document = null;
  try {
    document = await response.json();
  } catch {
    document = null;
  }
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new RpcFailure(response.status, document, Number.isFinite(retry) ? retry : null);
  }
  return document;
}

/** Submit a signed transaction's bytes and wait until it is committed: the committed
 * answer ({tx_id, height, code, reason?, ...}); RpcFailure when refused before ordering.
 * Its receipt says whether the chain accepted it or refused it and why (docs/OPENAPI). */
export async function submitAndWaitForCommit(txBytes) {
  return rpc("/v1/tx?wait=commit", {
    method: "POST",
    body: txBytes,
    headers: { "Content-Type": "application/msgpack" },
  });
}
