// Canonical encoding (docs/PROTOCOL.md section 1), the browser's twin of chain/encoding.py.
//
// The msgpack bytes are written and read by the vendored @msgpack/msgpack; this module
// adds the protocol's rules on top:
// - only integers, bytes (Uint8Array), str, booleans, null and arrays, at most 32 arrays
//   deep; maps, floats, extension types, undefined and other objects are refused;
// - every value in its shortest form. The library already writes integers and length
//   prefixes shortest, except that with 64-bit support on it writes every bigint as
//   uint 64 / int 64 and a number beyond 32 bits as a float. So integers are handed to
//   it as a number when they fit in 32 bits and as a bigint otherwise: a bigint then
//   only reaches uint 64 / int 64 when nothing shorter holds it;
// - decoding refuses trailing bytes, the refused types, text that is not valid UTF-8,
//   and anything but the shortest form, by re-encoding what it read and comparing, as
//   section 1 suggests and chain/encoding.py does.
//
// Integers come back as numbers when they are safe JavaScript integers, else as bigints;
// either is accepted for encoding.

import { Decoder, Encoder, ExtData } from "../vendor/msgpack-3.1.3/index.mjs";
import { equal } from "./bytes.js";

export const MAX_DEPTH = 32;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

export class DecodeError extends Error {
  constructor(message) {
    super(message);
    this.name = "DecodeError";
  }
}

const encoder = new Encoder({ useBigInt64: true });
const decoder = new Decoder({ useBigInt64: true });

/** The canonical bytes of `value`. Throws DecodeError naming what cannot be encoded. */
export function encode(value) {
  return encoder.encode(forLibrary(value, 0));
}

/** The value canonical `bytes` hold; DecodeError on anything section 1 refuses. */
export function decode(bytes) {
  if (!(bytes instanceof Uint8Array)) {
    throw new DecodeError("expected bytes");
  }
  let raw;
  try {
    raw = decoder.decode(bytes);
  } catch (error) {
    const text = String(error && error.message);
    if (text.startsWith("Extra ")) {
      throw new DecodeError("trailing bytes after the encoded value");
    }
    throw new DecodeError(`not valid msgpack: ${text}`);
  }
  const value = fromLibrary(raw, 0);
  if (!equal(encode(value), bytes)) {
    throw new DecodeError("non-canonical encoding: re-encoding gives different bytes");
  }
  return value;
}

function forLibrary(value, depth) {
  if (value === null || typeof value === "boolean") {
    return value;
  }
  if (typeof value === "number" || typeof value === "bigint") {
    return integer(value);
  }
  if (typeof value === "string") {
    if (!value.isWellFormed()) {
      throw new DecodeError("text holds a lone surrogate: it has no UTF-8 form");
    }
    return value;
  }
  if (value instanceof Uint8Array) {
    return value;
  }
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) {
      throw new DecodeError(`arrays nested deeper than ${MAX_DEPTH}`);
    }
    return value.map((item) => forLibrary(item, depth + 1));
  }
  throw new DecodeError(`${describe(value)} is not allowed in canonical structures`);
}

/** A number within 32 bits, else a bigint: what makes the library write it shortest. */
function integer(value) {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new DecodeError(
      Number.isInteger(value)
        ? `integer ${value} is beyond 2^53: give it as a bigint`
        : "floats are not allowed in canonical structures",
    );
  }
  const big = BigInt(value);
  if (big < I64_MIN || big > U64_MAX) {
    throw new DecodeError(`integer ${big} is outside the 64-bit range`);
  }
  return big >= -0x80000000n && big <= 0xffffffffn ? Number(big) : big;
}

function fromLibrary(value, depth) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    if (typeof value === "string" && !value.isWellFormed()) {
      throw new DecodeError("text is not valid UTF-8");
    }
    return value;
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new DecodeError("floats are not allowed in canonical structures");
    }
    return value;
  }
  if (typeof value === "bigint") {
    return asNumberIfSafe(value);
  }
  if (value instanceof Uint8Array) {
    return value.slice(); // the library hands out views of the input
  }
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) {
      throw new DecodeError(`arrays nested deeper than ${MAX_DEPTH}`);
    }
    return value.map((item) => fromLibrary(item, depth + 1));
  }
  if (value instanceof ExtData || value instanceof Date) {
    throw new DecodeError("msgpack extension types are not allowed");
  }
  throw new DecodeError(`${describe(value)} is not allowed in canonical structures`);
}

function asNumberIfSafe(big) {
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

function describe(value) {
  if (value === undefined) {
    return "undefined";
  }
  if (typeof value === "object") {
    return ArrayBuffer.isView(value) ? value.constructor.name : "a map (object)";
  }
  return typeof value;
}

// Field readers: every structure's decoder uses these, so field errors read the same as
// chain/encoding.py's ("header.height: 0 is outside [1, ...]").

export function expectList(value, length, what) {
  if (!Array.isArray(value)) {
    throw new DecodeError(`${what}: expected an array, got ${typeName(value)}`);
  }
  if (value.length !== length) {
    throw new DecodeError(`${what}: expected ${length} fields, got ${value.length}`);
  }
  return value;
}

/** An array of `required` fields and up to `optional` more, padded with null; a longer
 * array may not end in null (one encoding per value: trailing nil fields are left out). */
export function expectListWithTail(value, required, optional, what) {
  if (!Array.isArray(value)) {
    throw new DecodeError(`${what}: expected an array, got ${typeName(value)}`);
  }
  if (value.length < required || value.length > required + optional) {
    throw new DecodeError(
      `${what}: expected ${required} to ${required + optional} fields, got ${value.length}`,
    );
  }
  if (value.length > required && value[value.length - 1] === null) {
    throw new DecodeError(`${what}: a trailing optional field is nil; leave it out`);
  }
  return [...value, ...new Array(required + optional - value.length).fill(null)];
}

/** `fields` without the null optional fields at its end (the encoder's side of the tail). */
export function withoutNullTail(fields, required) {
  let end = fields.length;
  while (end > required && fields[end - 1] === null) {
    end--;
  }
  return fields.slice(0, end);
}

export function expectArray(value, what, maxItems = null) {
  if (!Array.isArray(value)) {
    throw new DecodeError(`${what}: expected an array, got ${typeName(value)}`);
  }
  if (maxItems !== null && value.length > maxItems) {
    throw new DecodeError(`${what}: at most ${maxItems} items, got ${value.length}`);
  }
  return value;
}

/** An integer within [minimum, maximum] (bounds may be numbers or bigints). */
export function expectInt(value, what, minimum = 0, maximum = U64_MAX) {
  if (!(Number.isInteger(value) || typeof value === "bigint")) {
    throw new DecodeError(`${what}: expected an integer, got ${typeName(value)}`);
  }
  const big = BigInt(value);
  if (big < BigInt(minimum) || big > BigInt(maximum)) {
    throw new DecodeError(`${what}: ${big} is outside [${minimum}, ${maximum}]`);
  }
  return value;
}

export function expectBytes(value, what, length = null, maxLength = null) {
  if (!(value instanceof Uint8Array)) {
    throw new DecodeError(`${what}: expected bytes, got ${typeName(value)}`);
  }
  if (length !== null && value.length !== length) {
    throw new DecodeError(`${what}: expected ${length} bytes, got ${value.length}`);
  }
  if (maxLength !== null && value.length > maxLength) {
    throw new DecodeError(`${what}: at most ${maxLength} bytes, got ${value.length}`);
  }
  return value;
}

/** Text of at most `maxLength` characters: Unicode code points, as section 1 counts. */
export function expectStr(value, what, maxLength = null) {
  if (typeof value !== "string") {
    throw new DecodeError(`${what}: expected a string, got ${typeName(value)}`);
  }
  if (!value.isWellFormed()) {
    throw new DecodeError(`${what}: holds a lone surrogate`);
  }
  const length = codePoints(value);
  if (maxLength !== null && length > maxLength) {
    throw new DecodeError(`${what}: at most ${maxLength} characters, got ${length}`);
  }
  return value;
}

export function expectBool(value, what) {
  if (typeof value !== "boolean") {
    throw new DecodeError(`${what}: expected a boolean, got ${typeName(value)}`);
  }
  return value;
}

export function codePoints(text) {
  let count = 0;
  for (const _ of text) {
    count++;
  }
  return count;
}

function typeName(value) {
  if (value === null) {
    return "nil";
  }
  if (Array.isArray(value)) {
    return "array";
  }
  if (value instanceof Uint8Array) {
    return "bytes";
  }
  if (typeof value === "number" || typeof value === "bigint") {
    return "integer";
  }
  return typeof value;
}
