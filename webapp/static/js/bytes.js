// Byte strings as Uint8Array: hex in and out, joining, comparing.
// Hex is lowercase on the way out (the RPC and receipt files use lowercase) and
// either case on the way in, as Python's bytes.fromhex reads it.

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** The bytes a hex string spells; throws naming `what` if it is not hex. */
export function fromHex(text, what = "value") {
  if (typeof text !== "string" || !HEX.test(text)) {
    throw new TypeError(`${what}: expected an even number of hex digits`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.substr(i * 2, 2), 16);
  }
  return out;
}

export function toHex(bytes) {
  let text = "";
  for (const byte of bytes) {
    text += byte.toString(16).padStart(2, "0");
  }
  return text;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** `value` as 8 bytes big-endian (Merkle roots seal the leaf count this way). */
export function u64be(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Bytes as a little-endian unsigned integer (Ed25519 scalars). */
export function leToBigInt(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    value = (value << 8n) | BigInt(bytes[i]);
  }
  return value;
}

/** A short form of a hash for messages, as the Python verifier's `short`. */
export function short(bytes) {
  return `${toHex(bytes).slice(0, 16)}…`;
}
