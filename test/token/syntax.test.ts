import assert from 'node:assert/strict';
import { findTokenProblem } from '../../lib/token/syntax.js';

// RFC 6750 b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const ALPHABET = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/');

describe('b64token syntax', () => {
  it('accepts exactly the b64token characters among the printable ASCII ones', () => {
    const wrong: string[] = [];
    for (let byte = 0x21; byte < 0x7f; byte++) {
      const c = String.fromCharCode(byte);
      if (c === '=') continue; // padding, tested below
      const bytes = Buffer.from(`a${c}b`, 'latin1');
      const accepted = findTokenProblem(bytes, { start: 0, end: bytes.length }) === undefined;
      if (accepted !== ALPHABET.has(c)) wrong.push(`${c} ${accepted ? 'accepted' : 'refused'}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('accepts trailing padding only', () => {
    const problem = (text: string) => findTokenProblem(Buffer.from(text), { start: 0, end: text.length });
    assert.equal(problem('ab=='), undefined);
    assert.match(problem('a=b')!, /padding is only allowed at the end/);
    assert.match(problem('=ab')!, /padding is only allowed at the end/);
  });
});
