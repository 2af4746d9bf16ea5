// encodeName (lib/files/name-encoding.ts): injective, and a valid token purpose.
import assert from 'node:assert/strict';
import { encodeName } from '../../lib/files/name-encoding.js';

describe('encodeName', () => {
  it('keeps A-Z a-z 0-9 . - and writes every other byte as _XX', () => {
    assert.equal(encodeName('ce1.example.org:9619'), 'ce1.example.org_3A9619');
    assert.equal(encodeName('https://a.example'), 'https_3A_2F_2Fa.example');
    assert.equal(encodeName('a_b'), 'a_5Fb');
    assert.equal(encodeName('é 🎉'), '_C3_A9_20_F0_9F_8E_89');
    assert.equal(encodeName(''), '');
  });

  it('distinct texts, distinct names: case, punctuation and escapes that look alike', () => {
    const texts = ['a:b', 'a_b', 'a_3Ab', 'a%3Ab', 'A:b', 'a b', 'a-b', 'a.b', 'a/b', 'a\\b', 'ab', 'a__b', 'a_5Fb'];
    const names = texts.map(encodeName);
    assert.equal(new Set(names).size, texts.length, names.join(' '));
    for (const name of names) assert.match(name, /^[A-Za-z0-9._-]*$/);
  });
});
