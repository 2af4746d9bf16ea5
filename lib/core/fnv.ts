// A short, stable name for a path (lock files, a watcher's pid and status files). Names in
// tokenenv's private directory need no cryptographic hash, and loading node:crypto costs a
// one-shot command 2–3 ms.

/** 64-bit FNV-1a of the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}
