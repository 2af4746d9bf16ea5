// One injective way to turn any text into part of a file name, shared with shell/tokenenv.sh
// (__tokenenv_encode computes the same with builtins): every UTF-8 byte outside [A-Za-z0-9.-]
// becomes `_XX` (uppercase hex), '_' included, so distinct texts always give distinct names and
// the result is a valid token purpose (lib/discovery: letters, digits, '.', '_', '-').

const KEPT = /^[A-Za-z0-9.-]$/;

export function encodeName(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && KEPT.test(char) ? char : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

