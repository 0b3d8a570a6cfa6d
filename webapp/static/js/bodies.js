// Transaction bodies (docs/PROTOCOL.md section 11.4), the browser's twin of
// votingcontract/bodies.py and poll_spec.py.
//
// `buildBody(kind, dict)` takes a body in its dict form, the JSON the RPC shows and poll
// files use (CastBallot.parse_dict and friends: hex for bytes, snake_case keys), and
// returns its canonical bytes; Python's body_from_dict(kind, dict).encode() gives the same
// bytes for the same dict. Like Python, it builds the array form and then checks it with
// the same readers that decode a body (`checkBody`), so a dict is held to exactly the
// limits a decoded body is, and an error names the field.

import {
  DecodeError,
  codePoints,
  decode,
  encode,
  expectArray,
  expectBool,
  expectBytes,
  expectInt,
  expectList,
  expectListWithTail,
  expectStr,
  withoutNullTail,
} from "./encoding.js";
import * as limits from "./limits.js";

export class BodyError extends Error {
  constructor(message) {
    super(message);
    this.name = "BodyError";
  }
}

/** The canonical bytes of a body of `kind` given in its dict form; BodyError names the
 * first bad field. */
export function buildBody(kind, dict) {
  const parse = PARSERS[kind];
  if (!parse) {
    throw new BodyError(`no dict form here for transaction kind "${kind}"`);
  }
  const value = parse(dict);
  try {
    checkBody(kind, value);
    return encode(value);
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new BodyError(error.message);
    }
    throw error;
  }
}

/** The array form of a body of `kind` from its bytes; DecodeError as malformed_body. */
export function decodeBody(kind, bytes) {
  const value = decode(bytes);
  checkBody(kind, value);
  return value;
}

/** Check an array-form body as its Python from_value does; DecodeError if it breaks a rule. */
export function checkBody(kind, value) {
  const check = CHECKERS[kind];
  if (!check) {
    throw new DecodeError(`unknown transaction kind "${kind}"`);
  }
  check(value);
}

// ---- checks of the array forms (from_value) ----------------------------------------

const hash = (v, what) => expectBytes(v, what, 32);
const key = hash;

function hashList(v, what, max) {
  expectArray(v, what, max).forEach((item, i) => hash(item, `${what}[${i}]`));
}

function choice(v, what, allowed) {
  expectStr(v, what, 64);
  if (!allowed.includes(v)) {
    throw new DecodeError(`${what}: "${v}" is not one of ${allowed.join(", ")}`);
  }
}

function orgId(v, what) {
  expectStr(v, what, limits.MAX_ORG_ID_LENGTH);
  if (!v || [...v].some((c) => !limits.ORG_ID_ALPHABET.includes(c))) {
    throw new DecodeError(`${what}: "${v}" must be 1+ characters of a-z 0-9 - _ .`);
  }
}

function image(v, what) {
  const f = expectList(v, 3, what);
  hash(f[0], `${what}.sha256`);
  expectInt(f[1], `${what}.size`, 1, limits.MAX_IMAGE_BYTES);
  choice(f[2], `${what}.type`, limits.IMAGE_TYPES);
}

function option(v, what) {
  const f = expectListWithTail(v, 2, 1, what);
  expectStr(f[0], `${what}.text`, limits.MAX_OPTION_LENGTH);
  expectInt(f[1], `${what}.cost`, 0, limits.MAX_COST);
  if (f[2] !== null) {
    image(f[2], `${what}.image`);
  }
}

function budget(v, what) {
  if (v === null) {
    return;
  }
  if (!Array.isArray(v)) {
    expectInt(v, `${what}.budget_cap`, 1, limits.MAX_COST);
    return;
  }
  const f = expectList(v, 2, `${what}.budget`);
  expectInt(f[0], `${what}.budget_cap`, 1, limits.MAX_COST);
  expectInt(f[1], `${what}.min_spend_percent`, 1, 100);
}

function question(v, what) {
  const f = expectListWithTail(v, 5, 1, what);
  const options = expectArray(f[1], `${what}.options`, limits.MAX_OPTIONS);
  if (options.length < limits.MIN_OPTIONS) {
    throw new DecodeError(
      `${what}.options: at least ${limits.MIN_OPTIONS} options, got ${options.length}`,
    );
  }
  budget(f[4], what);
  expectStr(f[0], `${what}.text`, limits.MAX_QUESTION_LENGTH);
  options.forEach((o, i) => option(o, `${what}.options[${i}]`));
  expectInt(f[2], `${what}.min_selections`, 0, 255);
  expectInt(f[3], `${what}.max_selections`, 0, 255);
  if (f[5] !== null) {
    image(f[5], `${what}.image`);
  }
}

function weights(v, what, phoneCount, keyCount) {
  const f = expectList(v, 2, what);
  weightList(f[0], `${what}.phone_weights`, phoneCount);
  weightList(f[1], `${what}.key_weights`, keyCount);
}

function weightList(v, what, entries) {
  const items = expectArray(v, what, limits.MAX_LIST_KEYS);
  if (items.length !== entries) {
    throw new DecodeError(`${what}: one weight per roll entry, ${entries}, got ${items.length}`);
  }
  items.forEach((w, i) => expectInt(w, `${what}[${i}]`, 1, limits.MAX_WEIGHT));
}

function roll(v, what) {
  const f = expectListWithTail(v, 2, 1, what);
  hashList(f[0], `${what}.phone_ids`, limits.MAX_LIST_KEYS);
  hashList(f[1], `${what}.voter_keys`, limits.MAX_LIST_KEYS);
  if (f[2] !== null) {
    weights(f[2], `${what}.weights`, f[0].length, f[1].length);
  }
}

function access(v, what) {
  const f = expectList(v, 5, what);
  if (f[0] !== null) {
    roll(f[0], `${what}.roll`);
  }
  if (f[1] !== null) {
    const p = expectList(f[1], 2, `${what}.password`);
    key(p[0], `${what}.password.gate_key`);
    expectBytes(p[1], `${what}.password.salt`, limits.SALT_SIZE);
  }
  if (f[2] !== null) {
    key(f[2], `${what}.qr_gate_key`);
  }
  if (f[3] !== null) {
    hashList(f[3], `${what}.tickets`, limits.MAX_LIST_KEYS);
  }
  if (f[4] !== null) {
    const g = expectList(f[4], 3, `${what}.geofence`);
    expectInt(g[0], `${what}.geofence.lat_micro`, -limits.MAX_LAT_MICRO, limits.MAX_LAT_MICRO);
    expectInt(g[1], `${what}.geofence.lon_micro`, -limits.MAX_LON_MICRO, limits.MAX_LON_MICRO);
    expectInt(g[2], `${what}.geofence.radius_m`, 1, limits.MAX_RADIUS_M);
  }
}

function createPoll(v) {
  const w = "create_poll";
  const f = expectListWithTail(v, 11, 1, w); // 12th: a secret poll's trustees
  const questions = expectArray(f[9], `${w}.questions`, limits.MAX_QUESTIONS);
  if (questions.length === 0) {
    throw new DecodeError(`${w}.questions: at least one question`);
  }
  choice(f[0], `${w}.kind`, limits.POLL_KINDS);
  expectStr(f[1], `${w}.org_id`, limits.MAX_ORG_ID_LENGTH);
  expectStr(f[2], `${w}.title`, limits.MAX_TITLE_LENGTH);
  expectStr(f[3], `${w}.purpose`, limits.MAX_PURPOSE_LENGTH);
  expectStr(f[4], `${w}.reference_url`, limits.MAX_URL_LENGTH);
  expectInt(f[5], `${w}.opens_at_ms`, 0, limits.MAX_TIME_MS);
  expectInt(f[6], `${w}.closes_at_ms`, 0, limits.MAX_TIME_MS);
  choice(f[7], `${w}.visibility`, limits.VISIBILITIES);
  expectBool(f[8], `${w}.revote`);
  questions.forEach((q, i) => question(q, `${w}.questions[${i}]`));
  access(f[10], `${w}.access`);
  if (f[11] !== null) {
    const secret = expectList(f[11], 2, `${w}.secret`);
    const trustees = expectArray(secret[0], `${w}.secret.trustees`, limits.MAX_TRUSTEES);
    trustees.forEach((t, i) => key(t, `${w}.secret.trustees[${i}]`));
    if (trustees.length === 0) {
      throw new DecodeError(`${w}.secret.trustees: at least one trustee`);
    }
    expectInt(secret[1], `${w}.secret.threshold`, 1, trustees.length);
  }
}

function castBallot(v) {
  const w = "cast_ballot";
  const f = expectListWithTail(v, 6, 1, w); // 7th: a secret poll's encrypted questions
  hash(f[0], `${w}.poll_id`);
  const perQuestion = expectArray(f[1], `${w}.selections`, limits.MAX_QUESTIONS);
  perQuestion.forEach((chosen, q) => {
    const label = `${w}.selections[${q}]`;
    const items = expectArray(chosen, label, limits.MAX_OPTIONS);
    items.forEach((i) => expectInt(i, label, 0, limits.MAX_OPTIONS - 1));
    for (let i = 1; i < items.length; i++) {
      if (items[i - 1] >= items[i]) {
        throw new DecodeError(`${label}: option indices must be strictly ascending`);
      }
    }
  });
  if (f[2] !== null) {
    expectBytes(f[2], `${w}.password_proof`, 64);
  }
  if (f[3] !== null) {
    expectBytes(f[3], `${w}.qr_proof`, 64);
  }
  if (f[4] !== null) {
    const t = expectList(f[4], 2, `${w}.ticket`);
    key(t[0], `${w}.ticket.key`);
    expectBytes(t[1], `${w}.ticket.signature`, 64);
  }
  if (f[5] !== null) {
    const l = expectList(f[5], 2, `${w}.location`);
    expectInt(l[0], `${w}.location.lat_micro`, -limits.MAX_LAT_MICRO, limits.MAX_LAT_MICRO);
    expectInt(l[1], `${w}.location.lon_micro`, -limits.MAX_LON_MICRO, limits.MAX_LON_MICRO);
  }
  if (f[6] !== null) {
    expectArray(f[6], `${w}.encrypted`, limits.MAX_QUESTIONS); // checked by the chain
  }
}

const CHECKERS = {
  register_org(v) {
    const f = expectList(v, 4, "register_org");
    const keys = expectArray(f[3], "register_org.keys", limits.MAX_ORG_KEYS);
    keys.forEach((k, i) => key(k, `register_org.keys[${i}]`));
    if (keys.length === 0) {
      throw new DecodeError("register_org.keys: at least one key");
    }
    orgId(f[0], "register_org.org_id");
    expectStr(f[1], "register_org.name", limits.MAX_NAME_LENGTH);
    choice(f[2], "register_org.category", limits.ORG_CATEGORIES);
  },
  add_org_key: (v) => orgKeyChange(v, "add_org_key"),
  revoke_org_key: (v) => orgKeyChange(v, "revoke_org_key"),
  enroll_voter(v) {
    const f = expectList(v, 2, "enroll_voter");
    hash(f[0], "enroll_voter.phone_id");
    key(f[1], "enroll_voter.voter_key");
  },
  cancel_key_change: (v) => expectList(v, 0, "cancel_key_change"),
  create_poll: createPoll,
  close_poll: (v) => hash(expectList(v, 1, "close_poll")[0], "close_poll.poll_id"),
  extend_poll(v) {
    const f = expectList(v, 2, "extend_poll");
    hash(f[0], "extend_poll.poll_id");
    expectInt(f[1], "extend_poll.closes_at_ms", 0, limits.MAX_TIME_MS);
  },
  extend_roll(v) {
    const f = expectListWithTail(v, 3, 1, "extend_roll");
    hashList(f[1], "extend_roll.phone_ids", limits.MAX_LIST_KEYS);
    hashList(f[2], "extend_roll.voter_keys", limits.MAX_LIST_KEYS);
    hash(f[0], "extend_roll.poll_id");
    if (f[3] !== null) {
      weights(f[3], "extend_roll.weights", f[1].length, f[2].length);
    }
  },
  issue_tickets(v) {
    const f = expectList(v, 2, "issue_tickets");
    hash(f[0], "issue_tickets.poll_id");
    hashList(f[1], "issue_tickets.ticket_keys", limits.MAX_LIST_KEYS);
  },
  cast_ballot: castBallot,
};

function orgKeyChange(v, kind) {
  const f = expectList(v, 2, kind);
  orgId(f[0], `${kind}.org_id`);
  key(f[1], `${kind}.key`);
}

// ---- dict forms (parse_dict) ---------------------------------------------------------

function isDict(d) {
  return d !== null && typeof d === "object" && !Array.isArray(d) && !ArrayBuffer.isView(d);
}

function typeName(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  return typeof value;
}

function field(d, name, what) {
  if (!isDict(d)) {
    throw new BodyError(`${what}: expected a table/object, got ${typeName(d)}`);
  }
  if (!Object.hasOwn(d, name)) {
    throw new BodyError(`${what}: missing field '${name}'`);
  }
  return d[name];
}

/** d[name] if present (an explicit null stays null, as Python's d.get), else `fallback`. */
function optional(d, name, what, fallback = null) {
  if (!isDict(d)) {
    throw new BodyError(`${what}: expected a table/object, got ${typeName(d)}`);
  }
  const value = Object.hasOwn(d, name) ? d[name] : undefined;
  return value === undefined ? fallback : value;
}

function checkKeys(d, allowed, prefix) {
  if (!isDict(d)) {
    throw new BodyError(`${prefix.replace(/\.$/, "")}: expected a table/object, got ${typeName(d)}`);
  }
  for (const name of Object.keys(d)) {
    if (!allowed.includes(name)) {
      throw new BodyError(`unknown key "${prefix}${name}"; known keys: ${[...allowed].sort().join(", ")}`);
    }
  }
}

function asStr(v, what) {
  if (typeof v !== "string") {
    throw new BodyError(`${what}: expected a string, got ${typeName(v)}`);
  }
  return v;
}

function asInt(v, what) {
  if (!(Number.isInteger(v) || typeof v === "bigint")) {
    throw new BodyError(`${what}: expected an integer, got ${typeName(v)}`);
  }
  return v;
}

function asBool(v, what) {
  if (typeof v !== "boolean") {
    throw new BodyError(`${what}: expected true or false, got ${typeName(v)}`);
  }
  return v;
}

function asList(v, what) {
  if (!Array.isArray(v)) {
    throw new BodyError(`${what}: expected a list, got ${typeName(v)}`);
  }
  return v;
}

function asHex(v, what, length = null) {
  let text = asStr(v, what);
  if (text.startsWith("0x") || text.startsWith("0X")) {
    text = text.slice(2);
  }
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) {
    throw new BodyError(`${what}: '${v}' is not hex`);
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(text.substr(i * 2, 2), 16);
  }
  if (length !== null && bytes.length !== length) {
    throw new BodyError(`${what}: expected ${length} bytes of hex, got ${bytes.length}`);
  }
  return bytes;
}

function hexList(v, what, length) {
  return asList(v, what).map((item, i) => asHex(item, `${what}[${i}]`, length));
}

/** Python's truthiness, for the `roll` and `tickets` switches of an access table. */
function truthy(v) {
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return Boolean(v) && v !== 0n;
}

function imageFromDict(d, what) {
  checkKeys(d, ["sha256", "size", "type"], `${what}.`);
  return [
    asHex(field(d, "sha256", what), `${what}.sha256`, 32),
    asInt(field(d, "size", what), `${what}.size`),
    asStr(field(d, "type", what), `${what}.type`),
  ];
}

function optionFromDict(d, what) {
  if (typeof d === "string") {
    return [d, 0];
  }
  checkKeys(d, ["text", "cost", "image"], `${what}.`);
  const text = asStr(field(d, "text", what), `${what}.text`);
  const img = optional(d, "image", what);
  return withoutNullTail(
    [
      text,
      asInt(optional(d, "cost", what, 0), `${what}.cost`),
      img === null ? null : imageFromDict(img, `${what}.image`),
    ],
    2,
  );
}

const QUESTION_KEYS = [
  "text",
  "options",
  "min_selections",
  "max_selections",
  "budget_cap",
  "min_spend_percent",
  "image",
];

function questionFromDict(d, what) {
  checkKeys(d, QUESTION_KEYS, `${what}.`);
  const options = asList(field(d, "options", what), `${what}.options`);
  const cap = optional(d, "budget_cap", what);
  const img = optional(d, "image", what);
  const text = asStr(field(d, "text", what), `${what}.text`);
  const parsedOptions = options.map((o, i) => optionFromDict(o, `${what}.options[${i}]`));
  const min = asInt(optional(d, "min_selections", what, 1), `${what}.min_selections`);
  const max = asInt(optional(d, "max_selections", what, 1), `${what}.max_selections`);
  const parsedCap = cap === null ? null : asInt(cap, `${what}.budget_cap`);
  const parsedImage = img === null ? null : imageFromDict(img, `${what}.image`);
  let percent = optional(d, "min_spend_percent", what);
  if (percent !== null) {
    if (cap === null) {
      throw new BodyError(`${what}.min_spend_percent: only a question with a budget_cap has one`);
    }
    percent = asInt(percent, `${what}.min_spend_percent`);
  }
  // The array form only with a minimum spend: [cap, 0] is malformed, as in Python.
  const budgetValue =
    percent === null || BigInt(percent) === 0n ? parsedCap : [parsedCap, percent];
  return withoutNullTail([text, parsedOptions, min, max, budgetValue, parsedImage], 5);
}

function weightsFromDict(table, phoneIds, voterKeys, what) {
  if (!isDict(table)) {
    throw new BodyError(`${what}: expected a table of id = weight, got ${typeName(table)}`);
  }
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const named = new Set([...phoneIds, ...voterKeys].map(toHex));
  const lowered = new Map();
  for (const [name, weight] of Object.entries(table)) {
    if (!named.has(name.toLowerCase())) {
      throw new BodyError(`${what}: ${name} is not a phone id or voter key of this roll`);
    }
    lowered.set(name.toLowerCase(), weight);
  }
  const weight = (entry) => {
    const hex = toHex(entry);
    if (!lowered.has(hex)) {
      throw new BodyError(`${what}: no weight for roll entry ${hex}`);
    }
    return asInt(lowered.get(hex), `${what}.${hex}`);
  };
  return [phoneIds.map(weight), voterKeys.map(weight)];
}

const ACCESS_KEYS = [
  "methods",
  "roll",
  "roll_phone_ids",
  "roll_voter_keys",
  "roll_weights",
  "password_gate_key",
  "password_salt",
  "qr_gate_key",
  "tickets",
  "ticket_keys",
  "geofence",
];

function accessFromDict(d, what) {
  checkKeys(d, ACCESS_KEYS, `${what}.`);
  const phones = optional(d, "roll_phone_ids", what);
  const keys = optional(d, "roll_voter_keys", what);
  const weightTable = optional(d, "roll_weights", what);
  let rollValue = null;
  if (truthy(optional(d, "roll", what, false)) || phones !== null || keys !== null || weightTable !== null) {
    const phoneIds = hexList(phones || [], `${what}.roll_phone_ids`, 32);
    const voterKeys = hexList(keys || [], `${what}.roll_voter_keys`, 32);
    rollValue = [phoneIds, voterKeys];
    if (weightTable !== null) {
      rollValue.push(weightsFromDict(weightTable, phoneIds, voterKeys, `${what}.roll_weights`));
    }
  }
  let password = null;
  if (optional(d, "password_gate_key", what) !== null) {
    password = [
      asHex(d.password_gate_key, `${what}.password_gate_key`, 32),
      asHex(field(d, "password_salt", what), `${what}.password_salt`, limits.SALT_SIZE),
    ];
  }
  const qr = optional(d, "qr_gate_key", what);
  let tickets = optional(d, "ticket_keys", what);
  if (tickets === null && truthy(optional(d, "tickets", what, false))) {
    tickets = [];
  }
  const fence = optional(d, "geofence", what);
  let geofence = null;
  if (fence !== null) {
    const where = `${what}.geofence`;
    checkKeys(fence, ["lat_micro", "lon_micro", "radius_m"], `${where}.`);
    geofence = ["lat_micro", "lon_micro", "radius_m"].map((name) =>
      asInt(field(fence, name, where), `${where}.${name}`),
    );
  }
  const value = [
    rollValue,
    password,
    qr === null ? null : asHex(qr, `${what}.qr_gate_key`, 32),
    tickets === null ? null : hexList(tickets, `${what}.ticket_keys`, 32),
    geofence,
  ];
  const methods = optional(d, "methods", what);
  if (methods !== null) {
    const names = ["roll", "password", "qr", "tickets", "geofence"].filter((_, i) => value[i] !== null);
    const expected = names.length ? names : ["public"];
    const given = asList(methods, `${what}.methods`);
    if (given.length !== expected.length || given.some((m, i) => m !== expected[i])) {
      throw new BodyError(
        `${what}.methods: ${JSON.stringify(given)} disagrees with the settings given, which make ${JSON.stringify(expected)}`,
      );
    }
  }
  return value;
}

const CREATE_POLL_KEYS = [
  "kind",
  "org_id",
  "title",
  "purpose",
  "reference_url",
  "opens_at_ms",
  "closes_at_ms",
  "visibility",
  "revote",
  "questions",
  "access",
];

const CAST_BALLOT_KEYS = [
  "poll_id",
  "selections",
  "password_proof",
  "qr_proof",
  "ticket_key",
  "ticket_signature",
  "location",
  "encrypted",
];

const PARSERS = {
  create_poll(d) {
    const w = "create_poll";
    checkKeys(d, CREATE_POLL_KEYS, `${w}.`);
    const questions = asList(field(d, "questions", w), `${w}.questions`);
    return [
      asStr(field(d, "kind", w), `${w}.kind`),
      asStr(optional(d, "org_id", w, ""), `${w}.org_id`),
      asStr(field(d, "title", w), `${w}.title`),
      asStr(optional(d, "purpose", w, ""), `${w}.purpose`),
      asStr(optional(d, "reference_url", w, ""), `${w}.reference_url`),
      asInt(field(d, "opens_at_ms", w), `${w}.opens_at_ms`),
      asInt(field(d, "closes_at_ms", w), `${w}.closes_at_ms`),
      asStr(optional(d, "visibility", w, "live"), `${w}.visibility`),
      asBool(optional(d, "revote", w, false), `${w}.revote`),
      questions.map((q, i) => questionFromDict(q, `${w}.questions[${i}]`)),
      accessFromDict(optional(d, "access", w, {}), `${w}.access`),
    ];
  },
  cast_ballot(d) {
    const w = "cast_ballot";
    checkKeys(d, CAST_BALLOT_KEYS, `${w}.`);
    const selections = asList(field(d, "selections", w), `${w}.selections`);
    let ticket = null;
    if (optional(d, "ticket_key", w) !== null) {
      ticket = [
        asHex(d.ticket_key, "ticket_key", 32),
        asHex(field(d, "ticket_signature", w), "ticket_signature"),
      ];
    }
    const where = optional(d, "location", w);
    let location = null;
    if (where !== null) {
      checkKeys(where, ["lat_micro", "lon_micro"], "location.");
      location = [
        asInt(field(where, "lat_micro", "location"), "location.lat_micro"),
        asInt(field(where, "lon_micro", "location"), "location.lon_micro"),
      ];
    }
    const pw = optional(d, "password_proof", w);
    const qr = optional(d, "qr_proof", w);
    const value = [
      asHex(field(d, "poll_id", w), "poll_id", 32),
      selections.map((s, q) => asList(s, w).map((i) => asInt(i, `${w}.selections[${q}]`))),
      pw === null ? null : asHex(pw, "password_proof"),
      qr === null ? null : asHex(qr, "qr_proof"),
      ticket,
      location,
    ];
    const encrypted = optional(d, "encrypted", w);
    if (encrypted !== null) {
      value.push(encryptedFromHex(encrypted));
    }
    return value;
  },
  cancel_key_change(d) {
    checkKeys(d, [], "cancel_key_change.");
    return [];
  },
  close_poll(d) {
    checkKeys(d, ["poll_id"], "close_poll.");
    return [asHex(field(d, "poll_id", "close_poll"), "poll_id", 32)];
  },
  extend_poll(d) {
    const w = "extend_poll";
    checkKeys(d, ["poll_id", "closes_at_ms"], `${w}.`);
    return [
      asHex(field(d, "poll_id", w), "poll_id", 32),
      asInt(field(d, "closes_at_ms", w), "closes_at_ms"),
    ];
  },
  extend_roll(d) {
    const w = "extend_roll";
    checkKeys(d, ["poll_id", "phone_ids", "voter_keys", "weights"], `${w}.`);
    const phoneIds = hexList(optional(d, "phone_ids", w, []), "phone_ids", 32);
    const voterKeys = hexList(optional(d, "voter_keys", w, []), "voter_keys", 32);
    const table = optional(d, "weights", w);
    const value = [asHex(field(d, "poll_id", w), "poll_id", 32), phoneIds, voterKeys];
    if (table !== null) {
      value.push(weightsFromDict(table, phoneIds, voterKeys, "weights"));
    }
    return value;
  },
  issue_tickets(d) {
    const w = "issue_tickets";
    checkKeys(d, ["poll_id", "ticket_keys"], `${w}.`);
    return [
      asHex(field(d, "poll_id", w), "poll_id", 32),
      hexList(field(d, "ticket_keys", w), "ticket_keys", 32),
    ];
  },
};

/** A secret poll's ballot in its dict form: the hex of the canonical encoding of the
 * array of encrypted questions (PROTOCOL.md 15.9), as Python's _parse_encrypted reads it. */
function encryptedFromHex(text) {
  const bytes = asHex(text, "encrypted");
  let value;
  try {
    value = decode(bytes);
  } catch (error) {
    throw new BodyError(`encrypted: ${error.message}`);
  }
  if (!Array.isArray(value)) {
    throw new BodyError("encrypted: expected the encoding of an array of questions");
  }
  return value;
}

/** The kinds `buildBody` takes: what a citizen's browser sends (organisations' and the
 * attester's kinds are signed elsewhere). */
export const CITIZEN_KINDS = Object.freeze(Object.keys(PARSERS));

export { codePoints };
