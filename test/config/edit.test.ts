// lib/config/edit.ts: sections replaced in place or appended, every other byte left alone, and
// the result read back by configparser's rules (parseIni) as written.
import assert from 'node:assert/strict';
import { iniValue, upsertSections } from '../../lib/config/edit.js';
import { parseIni } from '../../lib/config/ini.js';

const ACCOUNT = { name: 'account a', lines: ['password_file = /p'] };
const TOKEN = { name: 'token a', lines: ['account = a', 'scope = s'] };

describe('config editing (upsertSections)', () => {
  it('a new file: the sections, a blank line between them', () => {
    assert.equal(upsertSections('', 'f', [ACCOUNT, TOKEN]), '[account a]\npassword_file = /p\n\n[token a]\naccount = a\nscope = s\n');
  });

  it('appends after a last line without a line break, and after a trailing comment', () => {
    assert.equal(upsertSections('[x]\nk = v', 'f', [ACCOUNT]), '[x]\nk = v\n\n[account a]\npassword_file = /p\n');
    assert.equal(upsertSections('[x]\nk = v\n# end\n', 'f', [ACCOUNT]), '[x]\nk = v\n# end\n\n[account a]\npassword_file = /p\n');
  });

  it('replaces in place up to the last key or continuation line; what follows stays', () => {
    const before = '[token a]\naccount = old\nscope = one\n  two\n# commented = out\n\n[x]\nk = v\n';
    assert.equal(upsertSections(before, 'f', [TOKEN]), '[token a]\naccount = a\nscope = s\n# commented = out\n\n[x]\nk = v\n');
  });

  it('a header with extra spaces is the same section; a repeated [DEFAULT] ends the one before it', () => {
    const before = '[DEFAULT]\nd = 1\n[account   a]\nold = 1\n[DEFAULT]\ne = 2\n';
    const after = upsertSections(before, 'f', [ACCOUNT]);
    assert.equal(after, '[DEFAULT]\nd = 1\n[account a]\npassword_file = /p\n[DEFAULT]\ne = 2\n');
    assert.equal(parseIni(after, 'f').get('account a', 'e'), '2');
  });

  it('keeps CRLF line endings, and uses them for what it writes', () => {
    assert.equal(upsertSections('[x]\r\nk = v\r\n', 'f', [ACCOUNT]), '[x]\r\nk = v\r\n\r\n[account a]\r\npassword_file = /p\r\n');
  });

  it('iniValue: % is doubled, so configparser reads the value back as given; no line breaks', () => {
    const text = upsertSections('', 'f', [{ name: 'account a', lines: [`issuer = ${iniValue('https://iam.example/a%20b')}`] }]);
    assert.equal(parseIni(text, 'f').get('account a', 'issuer'), 'https://iam.example/a%20b');
    assert.throws(() => iniValue('a\nb'), /line break/);
  });
});
