// Protocol limits and value sets the browser checks before it signs, copied from
// votingcontract/limits.py, votingcontract/reasons.py and the body modules.
// tests/web/test_js_encoding.py compares every one with Python's, so a change there
// that is not made here fails a test.

export const MAX_ORG_ID_LENGTH = 64;
export const ORG_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_.";
export const MAX_NAME_LENGTH = 200;
export const MAX_ORG_KEYS = 16;
export const MAX_TITLE_LENGTH = 200;
export const MAX_PURPOSE_LENGTH = 2000;
export const MAX_URL_LENGTH = 500;
export const MAX_QUESTIONS = 20;
export const MAX_QUESTION_LENGTH = 500;
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 50;
export const MAX_OPTION_LENGTH = 200;
export const MAX_COST = 10 ** 15;
export const MAX_TRUSTEES = 16; // a secret poll's trustees
export const MAX_WEIGHT = 1_000_000;
export const MAX_LIST_KEYS = 1000;
export const MAX_RADIUS_M = 100_000;
export const MAX_TIME_MS = (1n << 63n) - 1n;
export const SALT_SIZE = 16;
export const MAX_IMAGE_BYTES = 1_048_576;
export const MAX_LAT_MICRO = 90_000_000;
export const MAX_LON_MICRO = 180_000_000;

export const POLL_KINDS = ["policy", "citizen"];
export const VISIBILITIES = ["live", "after_close"];
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
export const ORG_CATEGORIES = [
  "city_department",
  "district_office",
  "education_office",
  "public_body",
  "civic_group",
];

/** "accepted" and every reason code of PROTOCOL.md 11.3: a receipt with another code
 * does not decode. */
export const RECEIPT_CODES = [
  "accepted",
  "malformed_body",
  "unknown_kind",
  "not_authorized",
  "key_revoked",
  "unknown_org",
  "org_exists",
  "key_in_use",
  "already_enrolled",
  "not_enrolled",
  "too_many_open_polls",
  "invalid_poll",
  "bad_schedule",
  "unknown_poll",
  "not_applicable",
  "already_open",
  "not_open",
  "closed",
  "not_eligible",
  "bad_gate_proof",
  "bad_ticket",
  "ticket_used",
  "outside_area",
  "bad_selection_count",
  "unknown_option",
  "over_budget",
  "duplicate",
  "list_full",
  "key_pending",
  "under_min_spend",
  "weight_conflict",
  "weights_mismatch",
  // Secret polls (issue 16).
  "awaiting_key",
  "malformed_ballot",
  "bad_ballot_proof",
  "not_trustee",
  "wrong_phase",
  "bad_trustee_proof",
];
