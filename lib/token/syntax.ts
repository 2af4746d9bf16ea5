// RFC 6750 §2.1 b64token syntax and C99 isspace trimming, on raw bytes so that offsets in
// error messages are byte offsets a user can find with `od -c`. Problems are described by
// kind and position only: no part of the token is ever quoted.

/** The spec's bound: nothing larger is read or accepted as a token. */
export const MAX_TOKEN_BYTES = 64 * 1024;

import { InvalidTokenError } from '../core/errors.js';

// C99 isspace in the "C" locale: space \t \n \v \f \r. Nothing else (not NBSP, not a BOM).
function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// Filled by ranges: a loop over the 66 characters cost every command 0.1 ms at start.
const TOKEN_CHAR = new Uint8Array(128)
  .fill(1, 0x30, 0x3a) // 0-9
  .fill(1, 0x41, 0x5b) // A-Z
  .fill(1, 0x61, 0x7b); // a-z
for (const c of '-._~+/') TOKEN_CHAR[c.charCodeAt(0)] = 1;
const EQUALS = 0x3d;

export interface TokenBounds {
  start: number;
  end: number;
}

/** Byte range left after stripping isspace characters from both ends (start === end: empty). */
export function trimBounds(bytes: Uint8Array): TokenBounds {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start]!)) start++;
  while (end > start && isSpace(bytes[end - 1]!)) end--;
  return { start, end };
}

/** Why `bytes[start, end)` is not a b64token, or undefined when it is one. */
export function findTokenProblem(bytes: Uint8Array, { start, end }: TokenBounds): string | undefined {
  const whole = describeWholeValue(bytes, start, end);
  if (whole) return whole;
  let i = start;
  while (i < end && bytes[i]! < 128 && TOKEN_CHAR[bytes[i]!]) i++;
  if (i === start && bytes[i] === EQUALS) return `starts with '=' at offset ${i}: padding is only allowed at the end`;
  const padding = i;
  while (i < end && bytes[i] === EQUALS) i++;
  if (i === end) return undefined;
  if (i > padding && bytes[i]! < 128 && TOKEN_CHAR[bytes[i]!]) {
    return `'=' at offset ${padding} is followed by more characters: padding is only allowed at the end`;
  }
  return describeByte(bytes, i);
}

// Shapes that are recognisable as a whole, with the fix a user needs.
function describeWholeValue(bytes: Uint8Array, start: number, end: number): string | undefined {
  const first = bytes[start];
  if (first === 0x7b) return 'JSON object: extract its access_token first (e.g. jq -r .access_token)';
  if (first === 0x5b) return 'JSON array, not a token';
  if (end - start > 7 && /^bearer[ \t]/i.test(Buffer.from(bytes.subarray(start, start + 7)).toString('latin1'))) {
    return "starts with the HTTP scheme 'Bearer ': store the token alone";
  }
  if ((first === 0x22 || first === 0x27) && bytes[end - 1] === first && end - start > 1) {
    return 'enclosed in quotes: store the token without them';
  }
  return undefined;
}

const BYTE_NAMES: Record<number, string> = {
  0x00: 'NUL byte',
  0x09: 'interior tab',
  0x0a: 'interior newline',
  0x0b: 'interior vertical tab',
  0x0c: 'interior form feed',
  0x0d: 'interior carriage return',
  0x20: 'interior space',
  0x22: 'double quote',
  0x27: 'single quote',
};

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

function describeByte(bytes: Uint8Array, offset: number): string {
  const byte = bytes[offset]!;
  const named = BYTE_NAMES[byte];
  if (named) return `${named} at offset ${offset}`;
  if (byte === 0xc2 && bytes[offset + 1] === 0xa0) return `non-breaking space (U+00A0) at offset ${offset}`;
  if (byte === 0xef && bytes[offset + 1] === 0xbb && bytes[offset + 2] === 0xbf) {
    return `byte order mark (U+FEFF) at offset ${offset}`;
  }
  if (byte >= 0x80) return `non-ASCII byte 0x${hex(byte)} at offset ${offset}`;
  if (byte < 0x20 || byte === 0x7f) return `control character 0x${hex(byte)} at offset ${offset}`;
  return `character U+00${hex(byte)} at offset ${offset} is not allowed in a bearer token`;
}

/**
 * The token held in `bytes` (trimmed), undefined when there is none (empty or whitespace only).
 * Throws InvalidTokenError naming `where` (a variable or a path) when it is not a b64token.
 */
export function extractToken(bytes: Uint8Array, where: string): string | undefined {
  // Discovery often re-reads an unchanged file (prompts, hooks, services asking per request):
  // comparing bytes (memcmp) is far cheaper than validating them again.
  if (lastValid && lastValid.bytes.equals(bytes)) return lastValid.token;
  const bounds = trimBounds(bytes);
  if (bounds.start === bounds.end) return undefined;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('latin1', bounds.start, bounds.end);
  // The regular expression is the fast path; the byte-wise walk only explains a failure.
  if (B64TOKEN.test(text)) {
    lastValid = { bytes: Buffer.from(bytes), token: text };
    return text;
  }
  throw new InvalidTokenError(where, findTokenProblem(bytes, bounds) ?? 'not an RFC 6750 b64token');
}

let lastValid: { bytes: Buffer; token: string } | undefined;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
