// lib/config/ini.ts must read an osg-token-renewer config.ini exactly as Python's
// configparser.ConfigParser() does. Two layers:
// - expectations written down here (each checked against Python 3.11 while writing), so the
//   test means something without python3;
// - a live conformance run: every case in CASES goes through the real configparser (written to a
//   file and read with .read(), as osg-token-renewer does) and through parseIni, and the parsed
//   sections, raw values, interpolated lookups and error kinds/lines must be identical.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DEFAULT_SECTION, IniError, parseIni, type IniDocument } from '../../lib/config/ini.js';
import { requireCommands } from '../support/peers.js';

const ini = (...lines: string[]): string => lines.join('\n') + '\n';

// osg-token-renewer's example, as in the seed document (blank lines after headers included).
const OSG_SEED_EXAMPLE = ini(
  '[account myclient1234]',
  '',
  'password_file = /etc/osg/tokens/',
  '',
  '[token mytoken567]',
  '',
  'account = myclient1234',
  'token_path = /etc/osg/tokens/myclient1234.mytoken567.token',
);

// The config.ini shipped in the osg-token-renewer repository (older version), comments included.
const OSG_REPO_EXAMPLE = ini(
  '[account ACCOUNT_SHORTNAME]',
  '',
  'password_file = /etc/osg/tokens/ACCOUNT_SHORTNAME.pw',
  '',
  '',
  '',
  '[token TOKEN_NAME]',
  '',
  'account = ACCOUNT_SHORTNAME',
  'token_path = /etc/osg/tokens/ACCOUNT_SHORTNAME.TOKEN_NAME.token',
  '',
  '# Optional:',
  '#',
  '# audience = <list of audiences to pass via --aud option>',
  '# (For tokens used against an HTCondor-CE, set to <CE FQDN>:<CE PORT>)',
  '#',
  '# scope = <list of scopes to pass via --scope option>',
  '#',
  '# min_lifetime = <min token lifetime in seconds to pass via --time option>',
  '',
);

// The client-credentials account that osg-token-renewer-setup --client-credentials prints.
const OSG_CLIENT_CREDENTIALS = ini(
  '[account cc.example]',
  '',
  'token_request_url = https://demo.scitokens.org/oauth2/token',
  'client_id = PROVIDED_CLIENT_ID',
  'client_secret = s3cr;et#value',
  '',
  '[token ce.example.org:9619]',
  'account = cc.example',
  'token_path = /etc/osg/tokens/cc.example.ce.token',
  'audience = https://ce.example.org:9619 ANY',
  'scope = compute.create compute.read',
  'min_lifetime = 1200',
);

/** Tricky inputs; each is compared with Python's configparser when python3 is available. */
const CASES: Record<string, string> = {
  'osg seed example': OSG_SEED_EXAMPLE,
  'osg repo config.ini': OSG_REPO_EXAMPLE,
  'osg client credentials': OSG_CLIENT_CREDENTIALS,
  'only comments (current osg config.ini)': ini('# Example', '#', '# [account X]', '# password_file = x', ''),
  'empty file': '',
  'whitespace only': ' \n\t\n',
  'no final newline': '[s]\na = 1',
  '= and :': ini('[s]', 'a = 1', 'b: 2', 'c:3', 'd=4', 'e :5', '  f  =  6  '),
  'first delimiter wins': ini('[s]', 'a = b = c', 'd: e=f', 'g=h:i', 'url = https://x.org:443/p?q=1', 'https://x = y', 'j : k : l'),
  'empty values': ini('[s]', 'a =', 'b:', 'c = ""'),
  'inline ; and # kept': ini('[s]', 'url = https://x/#frag ; not a comment', 'a = b # c', 'd = e;f', 'g = ;h', 'i = #j'),
  'comments with indentation': ini('[s]', '  # indented comment', '\t; tab comment', 'a = 1', '#x = y', ';z = w'),
  'section names verbatim': ini('[account my.name]', 'a = 1', '[token a;b]', 'b = 2', '[ spaced ]', 'c = 3', '[x.y.z]', 'd = 4', '[a=b]', 'e = 5', '[Token TOKEN_NAME]', 'f = 6'),
  'section header quirks': ini('[a]b]', 'x = 1', '[c] trailing text', 'y = 2', '[d] = e', 'z = 3', '[[e]]', 'w = 4'),
  'DEFAULT and default differ': ini('[default]', 'a = 1', '[DEFAULT]', 'b = 2', '[s]', 'c = 3'),
  'multi-line values': ini('[s]', 'scope = compute.read', '  compute.create', '\tcompute.cancel', 'next = 1'),
  'multi-line with blank lines': ini('[s]', 'a = one', '', '  two', '', '', '  three', '', '', 'b = x', '', ''),
  'multi-line with comments inside': ini('[s]', 'a = one', '  # dropped comment', '  two', '; another', '  three', 'b = 2'),
  'continuation keeps [x] and k = v': ini('[s]', 'a = 1', '  [not a section]', '  b = not a key', 'c = 3'),
  'value starts on next line': ini('[s]', 'a =', '  first', '  second'),
  'trailing blank lines stripped': ini('[s]', 'a = 1', '', '', '[t]', 'b = 2', '   ', ''),
  'indented keys': ini('[s]', '  a = 1', '  b = 2', '    more', 'c = 3', ' d = 4'),
  'tabs as indentation': ini('[s]', 'a = 1', '\tb', '\t\tc', '[t]', '\tx = 1', '\t y', ' \tz', '\tw = 2'),
  'unicode whitespace as indentation': ini('[s]', 'a = 1', '\u00a0b', '\u2003c', '\fd', 'e = \u00a0 f \u3000'),
  'Python whitespace, not JavaScript\'s': '[s] ; c\n\x1ca = 1\n\x1d  b\nc = \x1c2\x1f\n[t]\n\ufeffd = 1\ne\u2028f = g\u2028h\n',
  'U+2028 and U+2029 in section names': '[a\u2028b]\nx = 1\n[token c\u2029d]\ny = 2\n[\u2028]\nz = 3\n[e]\u2028]\nw = 4\n[f\u2029\u2028g]tail\nv = 5\n[\u2028h\u2029]\nu = 6\n',
  'U+2028 and U+2029 around headers and keys': '\u2028[s]\u2029\n\u2028k = v\u2028\n[t\u2028]\r\n\u2029x = 1\n',
  'x85 indentation is not a continuation here': '[s]\n\x1ca = 1\n\x85b\n',
  'continuation after a section header is not': ini('[s]', '  a = 1', '[t]', '  b = 2'),
  'DEFAULT inheritance': ini('[DEFAULT]', 'min_lifetime = 60', 'scope = read', '[token a]', 'scope = write', '[token b]', 'account = x'),
  'DEFAULT after sections': ini('[s]', 'a = 1', '[DEFAULT]', 'b = 2', 'A2 = 3'),
  'DEFAULT twice': ini('[DEFAULT]', 'a = 1', '[s]', 'x = 1', '[DEFAULT]', 'b = 2'),
  'case-insensitive keys': ini('[s]', 'Audience = x', 'SCOPE = y', 'Min_Lifetime = 3'),
  interpolation: ini('[DEFAULT]', 'base = /etc/osg/tokens', 'name = dflt', '[token a]', 'name = a', 'path = %(base)s/%(name)s.token', 'upper = %(BASE)s', 'pct = 100%%', 'pcts = %%%%(base)s', 'deflt = %(path)s'),
  'interpolation from DEFAULT value uses section': ini('[DEFAULT]', 'path = %(dir)s/x', 'dir = /d', '[s]', 'dir = /s', '[t]'),
  'interpolation in multi-line value': ini('[s]', 'a = 1', 'b = %(a)s', '  %(a)s%%'),
  'lone percent': ini('[s]', 'a = 100%', 'b = 5% off', 'c = %', 'ok = fine'),
  'bad reference syntax': ini('[s]', 'a = %(b)d', 'b = 1', 'c = %()s', 'd = %(b', 'e = %(b)'),
  'missing reference': ini('[s]', 'a = %(nope)s', 'b = %(b2)s', 'b2 = %(nope)s'),
  'recursion depth': ini('[s]', 'loop = %(loop)s', 'a0 = %(a1)s', 'a1 = %(a2)s', 'a2 = %(a3)s', 'a3 = %(a4)s', 'a4 = %(a5)s', 'a5 = %(a6)s', 'a6 = %(a7)s', 'a7 = %(a8)s', 'a8 = %(a9)s', 'a9 = %(a10)s', 'a10 = %(a11)s', 'a11 = end%%'),
  'CRLF line endings': '[s]\r\na = 1\r\nb = x\r\n  y\r\n\r\n[t]\r\nc = 2\r\n',
  'lone CR line endings': '[s]\ra = 1\rb = 2\r',
  'mixed line endings': '[s]\na = 1\r\n  b\r  c\n',
  'duplicate section': ini('[s]', 'a = 1', '[t]', '[s]', 'b = 2'),
  'duplicate key': ini('[s]', 'a = 1', 'b = 2', 'a = 3'),
  'duplicate key, other case': ini('[s]', 'Audience = 1', 'audience = 2'),
  'same key in two sections is fine': ini('[s]', 'a = 1', '[t]', 'a = 2'),
  'duplicate key across DEFAULT sections': ini('[DEFAULT]', 'a = 1', '[s]', '[DEFAULT]', 'A = 2'),
  'missing section header': ini('a = 1', '[s]'),
  'missing section header after comments': ini('# c', '', 'password_file = x'),
  'indented line before any section': ini('  a = 1'),
  'no-value key': ini('[s]', 'flag', 'a = 1'),
  'several bad lines': ini('[s]', 'bad one', 'a = 1', 'bad two', '[]'),
  'bad line then duplicate': ini('[s]', 'bad', 'a = 1', 'a = 2'),
  'empty key name': ini('[s]', '= value', ': other'),
  'bad line changes indent level': ini('[s]', '  a = 1', 'bad', ' x'),
};

interface Outcome {
  error?: string;
  lines?: number[];
  sections?: { name: string; own: [string, string][]; lookups: [string, string | null, string | null][] }[];
}

function ours(text: string): Outcome {
  let doc: IniDocument;
  try {
    doc = parseIni(text, 'case.ini');
  } catch (e) {
    if (e instanceof IniError) return { error: e.kind, lines: [...e.lines] };
    throw e;
  }
  const sections = [DEFAULT_SECTION, ...doc.sectionNames()].map((name) => ({
    name,
    own: [...(doc.section(name)?.entries.values() ?? [])].map((e): [string, string] => [e.key, e.value]),
    lookups: doc.keys(name).map((key): [string, string | null, string | null] => {
      try {
        return [key, doc.get(name, key) ?? null, null];
      } catch (e) {
        if (e instanceof IniError) return [key, null, e.kind];
        throw e;
      }
    }),
  }));
  return { sections };
}

// Reads a JSON list of INI texts on stdin; prints one Outcome per text.
const PYTHON = String.raw`
import configparser, json, os, shutil, sys, tempfile
texts = json.load(sys.stdin)
tmp = tempfile.mkdtemp()
out = []
try:
    for i, text in enumerate(texts):
        path = os.path.join(tmp, '%d.ini' % i)
        with open(path, 'w', encoding='utf-8', newline='') as f:
            f.write(text)
        p = configparser.ConfigParser()
        try:
            p.read(path, encoding='utf-8')
        except configparser.Error as e:
            kind = type(e).__name__
            lines = [n for n, _ in e.errors] if kind == 'ParsingError' else [e.lineno]
            out.append({'error': kind, 'lines': lines})
            continue
        sections = []
        for name in ['DEFAULT'] + p.sections():
            own = p._defaults if name == 'DEFAULT' else p._sections[name]
            lookups = []
            for key in p[name]:
                try:
                    lookups.append([key, p.get(name, key), None])
                except configparser.Error as e:
                    lookups.append([key, None, type(e).__name__])
            sections.append({'name': name, 'own': [[k, v] for k, v in own.items()], 'lookups': lookups})
        out.append({'sections': sections})
finally:
    shutil.rmtree(tmp)
json.dump(out, sys.stdout)
`;

describe('config/ini', () => {
  describe('parseIni (expectations checked against Python 3.11 configparser)', () => {
    it('reads the osg-token-renewer example, keeping section names with dots and colons', () => {
      const doc = parseIni(OSG_SEED_EXAMPLE, 'config.ini');
      assert.deepEqual(doc.sectionNames(), ['account myclient1234', 'token mytoken567']);
      assert.equal(doc.get('account myclient1234', 'password_file'), '/etc/osg/tokens/');
      assert.equal(doc.get('token mytoken567', 'token_path'), '/etc/osg/tokens/myclient1234.mytoken567.token');
      assert.equal(doc.entry('token mytoken567', 'account')?.line, 7);
      assert.equal(doc.section('token mytoken567')?.line, 5);

      const cc = parseIni(OSG_CLIENT_CREDENTIALS, 'config.ini');
      assert.deepEqual(cc.sectionNames(), ['account cc.example', 'token ce.example.org:9619']);
      assert.equal(cc.get('account cc.example', 'client_secret'), 's3cr;et#value');
      assert.equal(cc.get('token ce.example.org:9619', 'audience'), 'https://ce.example.org:9619 ANY');
    });

    it('splits on the first = or :, strips around keys and values, keeps ; and # in values', () => {
      const doc = parseIni(CASES['first delimiter wins'] as string, 'c.ini');
      assert.equal(doc.get('s', 'a'), 'b = c');
      assert.equal(doc.get('s', 'd'), 'e=f');
      assert.equal(doc.get('s', 'g'), 'h:i');
      assert.equal(doc.get('s', 'url'), 'https://x.org:443/p?q=1');
      assert.equal(doc.get('s', 'https'), '//x = y'); // ':' before '='
      assert.equal(doc.get('s', 'j'), 'k : l');
      const inline = parseIni(CASES['inline ; and # kept'] as string, 'c.ini');
      assert.equal(inline.get('s', 'url'), 'https://x/#frag ; not a comment');
      assert.equal(inline.get('s', 'a'), 'b # c');
      assert.equal(inline.get('s', 'g'), ';h');
      assert.equal(inline.get('s', 'i'), '#j');
    });

    it('keeps section names verbatim and case-sensitive, lowercases keys', () => {
      const doc = parseIni(CASES['section names verbatim'] as string, 'c.ini');
      assert.deepEqual(doc.sectionNames(), ['account my.name', 'token a;b', ' spaced ', 'x.y.z', 'a=b', 'Token TOKEN_NAME']);
      const quirks = parseIni(CASES['section header quirks'] as string, 'c.ini');
      assert.deepEqual(quirks.sectionNames(), ['a]b', 'c', 'd', '[e]']);
      const keys = parseIni(CASES['case-insensitive keys'] as string, 'c.ini');
      assert.deepEqual(keys.keys('s'), ['audience', 'scope', 'min_lifetime']);
      assert.equal(keys.get('s', 'AUDIENCE'), 'x');
    });

    it('joins continuation lines, keeps inner blank lines, drops trailing ones and comments', () => {
      const doc = parseIni(CASES['multi-line with blank lines'] as string, 'c.ini');
      assert.equal(doc.getRaw('s', 'a'), 'one\n\ntwo\n\n\nthree');
      assert.equal(doc.getRaw('s', 'b'), 'x');
      assert.equal(doc.entry('s', 'b')?.line, 10);
      const comments = parseIni(CASES['multi-line with comments inside'] as string, 'c.ini');
      assert.equal(comments.getRaw('s', 'a'), 'one\ntwo\nthree');
      const looks = parseIni(CASES['continuation keeps [x] and k = v'] as string, 'c.ini');
      assert.equal(looks.getRaw('s', 'a'), '1\n[not a section]\nb = not a key');
      assert.deepEqual(looks.sectionNames(), ['s']);
      const tabs = parseIni(CASES['tabs as indentation'] as string, 'c.ini');
      assert.equal(tabs.getRaw('s', 'a'), '1\nb\nc');
      assert.equal(tabs.getRaw('t', 'x'), '1\ny\nz'); // '\t y' and ' \tz' are 2 characters deep, '\tx' 1
      assert.equal(tabs.getRaw('t', 'w'), '2');
      const next = parseIni(CASES['value starts on next line'] as string, 'c.ini');
      assert.equal(next.getRaw('s', 'a'), '\nfirst\nsecond');
    });

    it('handles CRLF and lone CR line endings like a Python text file', () => {
      const crlf = parseIni(CASES['CRLF line endings'] as string, 'c.ini');
      assert.equal(crlf.getRaw('s', 'b'), 'x\ny');
      assert.equal(crlf.entry('t', 'c')?.line, 7);
      const cr = parseIni(CASES['lone CR line endings'] as string, 'c.ini');
      assert.equal(cr.getRaw('s', 'b'), '2');
      assert.equal(cr.entry('s', 'b')?.line, 3);
    });

    it('inherits [DEFAULT] keys, own keys first; [default] is an ordinary section', () => {
      const doc = parseIni(CASES['DEFAULT inheritance'] as string, 'c.ini');
      assert.deepEqual(doc.sectionNames(), ['token a', 'token b']);
      assert.deepEqual(doc.keys('token a'), ['scope', 'min_lifetime']);
      assert.equal(doc.get('token a', 'scope'), 'write');
      assert.equal(doc.get('token b', 'scope'), 'read');
      assert.equal(doc.entry('token b', 'min_lifetime')?.line, 2);
      assert.equal(doc.get('no such section', 'scope'), undefined);
      assert.equal(doc.get('token b', 'audience'), undefined);
      const lower = parseIni(CASES['DEFAULT and default differ'] as string, 'c.ini');
      assert.deepEqual(lower.sectionNames(), ['default', 's']);
      assert.equal(lower.get('s', 'a'), undefined);
      assert.equal(lower.get('s', 'b'), '2');
    });

    it('interpolates %(name)s and %% at lookup time, raw values stay raw', () => {
      const doc = parseIni(CASES.interpolation as string, 'c.ini');
      assert.equal(doc.get('token a', 'path'), '/etc/osg/tokens/a.token');
      assert.equal(doc.getRaw('token a', 'path'), '%(base)s/%(name)s.token');
      assert.equal(doc.get('token a', 'upper'), '/etc/osg/tokens');
      assert.equal(doc.get('token a', 'pct'), '100%');
      assert.equal(doc.get('token a', 'pcts'), '%%(base)s');
      assert.equal(doc.get('token a', 'deflt'), '/etc/osg/tokens/a.token');
      const viaDefault = parseIni(CASES['interpolation from DEFAULT value uses section'] as string, 'c.ini');
      assert.equal(viaDefault.get('s', 'path'), '/s/x');
      assert.equal(viaDefault.get('t', 'path'), '/d/x');
    });

    it('reports interpolation errors with file, line and key, without the value', () => {
      const doc = parseIni(CASES['lone percent'] as string, 'config.ini');
      assert.throws(() => doc.get('s', 'b'), (e: unknown) => {
        assert.ok(e instanceof IniError);
        assert.equal(e.kind, 'InterpolationSyntaxError');
        assert.equal(e.file, 'config.ini');
        assert.equal(e.line, 3);
        assert.equal(e.key, 'b');
        assert.match(e.message, /^config\.ini:3: key "b" in \[s\]: '%' at character 2 of the value must be followed by '%' or '\('/);
        assert.doesNotMatch(e.message, /off/);
        return true;
      });
      assert.equal(doc.get('s', 'ok'), 'fine'); // errors come from lookups, not from parsing
      const missing = parseIni(CASES['missing reference'] as string, 'config.ini');
      assert.throws(() => missing.get('s', 'b'), (e: unknown) => {
        assert.ok(e instanceof IniError);
        assert.equal(e.kind, 'InterpolationMissingOptionError');
        assert.equal(e.line, 3);
        assert.match(e.message, /%\(nope\)s names a key that is not set in \[s\] or \[DEFAULT\].*in the value of "b2", line 4/);
        return true;
      });
      const depth = parseIni(CASES['recursion depth'] as string, 'config.ini');
      assert.throws(() => depth.get('s', 'loop'), { kind: 'InterpolationDepthError', line: 2 });
      // Like Python, the depth counts values that still contain '%' (a11's '%%' counts too).
      assert.equal(depth.get('s', 'a2'), 'end%'); // a2 … a11: 10 levels, fine
      assert.throws(() => depth.get('s', 'a1'), { kind: 'InterpolationDepthError', line: 4 }); // 11: too deep
    });

    it('rejects duplicates, naming both lines', () => {
      assert.throws(() => parseIni(CASES['duplicate section'] as string, 'config.ini'), {
        kind: 'DuplicateSectionError',
        line: 4,
        message: 'config.ini:4: [s]: section already defined on line 1',
      });
      assert.throws(() => parseIni(CASES['duplicate key, other case'] as string, 'config.ini'), {
        kind: 'DuplicateOptionError',
        line: 3,
        key: 'audience',
        message: 'config.ini:3: key "audience" in [s]: key already set on line 2 of this section (keys are case-insensitive)',
      });
      assert.throws(() => parseIni(CASES['duplicate key across DEFAULT sections'] as string, 'c.ini'), { kind: 'DuplicateOptionError', line: 5 });
      assert.deepEqual(parseIni(CASES['DEFAULT twice'] as string, 'c.ini').keys('s'), ['x', 'a', 'b']);
    });

    it('rejects a missing section header, value-less keys and bad lines, without echoing them', () => {
      assert.throws(() => parseIni(CASES['missing section header after comments'] as string, 'c.ini'), { kind: 'MissingSectionHeaderError', line: 3 });
      assert.throws(() => parseIni(CASES['no-value key'] as string, 'c.ini'), { kind: 'ParsingError', line: 2 });
      assert.throws(() => parseIni(CASES['several bad lines'] as string, 'c.ini'), (e: unknown) => {
        assert.ok(e instanceof IniError);
        assert.deepEqual(e.lines, [2, 4, 5]);
        assert.match(e.message, /^c\.ini:2: .*\(more bad lines: 4, 5\)$/);
        assert.doesNotMatch(e.message, /bad one|bad two/);
        return true;
      });
      // A secret with a forgotten '=' must not reach a log.
      const leaky = ini('[account a]', 'client_secret s3cr3t-value');
      assert.throws(() => parseIni(leaky, 'c.ini'), (e: unknown) => e instanceof IniError && !/s3cr3t/.test(e.message) && !/client_secret/.test(e.message));
      assert.throws(() => parseIni(ini('client_secret = s3cr3t'), 'c.ini'), (e: unknown) => e instanceof IniError && !/s3cr3t/.test(e.message));
    });

    it('never puts parts of a secret-looking value into interpolation errors', () => {
      const doc = parseIni(ini('[a]', 'client_secret = ab%(cdsecretpart)sef', 'password = x%y'), 'c.ini');
      assert.throws(() => doc.get('a', 'client_secret'), (e: unknown) => e instanceof IniError && e.key === 'client_secret' && !e.message.includes('cdsecretpart'));
      assert.throws(() => doc.get('a', 'password'), (e: unknown) => e instanceof IniError && !/x%y/.test(e.message));
    });

    it('section names keep U+2028 and U+2029 (JavaScript\'s "." stops at them, Python\'s does not)', () => {
      const doc = parseIni(CASES['U+2028 and U+2029 in section names'] as string, 'c.ini');
      assert.deepEqual(doc.sectionNames(), ['a\u2028b', 'token c\u2029d', '\u2028', 'e]\u2028', 'f\u2029\u2028g', '\u2028h\u2029']);
      assert.equal(doc.get('token c\u2029d', 'y'), '2');
    });

    it('bounds interpolation: a value may expand to 64 KiB, a document to 4 MiB in all', () => {
      // Ten references to ten references... to 'lol': 10^10 characters; refused at the bound, at once.
      const lines = ['[s]', 'l0 = lol%%'];
      for (let i = 1; i < 10; i++) lines.push(`l${i} = ${`%(l${i - 1})s`.repeat(10)}`);
      const doc = parseIni(ini(...lines), 'c.ini');
      const started = Date.now();
      assert.throws(() => doc.get('s', 'l9'), (e: unknown) => {
        assert.ok(e instanceof IniError);
        assert.equal(e.kind, 'InterpolationSizeError');
        assert.equal(e.line, 11);
        assert.match(e.message, /^c\.ini:11: key "l9" in \[s\]: %\(name\)s references expand to more than 65536 characters/);
        return true;
      });
      assert.ok(Date.now() - started < 1000);
      assert.equal(doc.get('s', 'l4')?.length, 4 * 10 ** 4, 'below the bound: expanded as configparser would');
      // Many values, each under the bound, together over the document's budget.
      const many = parseIni(ini('[s]', `big = ${'x'.repeat(60_000)}%%`, ...Array.from({ length: 80 }, (_, i) => `k${i} = %(big)s`)), 'c.ini');
      let failedAt = -1;
      for (let i = 0; i < 80 && failedAt < 0; i++) {
        try {
          many.get('s', `k${i}`);
        } catch (e) {
          assert.ok(e instanceof IniError && e.kind === 'InterpolationSizeError');
          assert.match(e.message, /expand to more than 4194304 characters in all/);
          failedAt = i;
        }
      }
      assert.ok(failedAt > 60 && failedAt < 80, `budget reached at lookup ${failedAt}`);
    });

    it('drops a leading UTF-8 BOM (configparser would fail with MissingSectionHeaderError)', () => {
      const doc = parseIni('\ufeff[s]\na = 1\n', 'c.ini');
      assert.deepEqual(doc.sectionNames(), ['s']);
      assert.equal(doc.get('s', 'a'), '1');
    });

    it('points later validation errors at the key, or the section header', () => {
      const doc = parseIni(OSG_CLIENT_CREDENTIALS, 'config.ini');
      const e = doc.errorAt('token ce.example.org:9619', 'Min_Lifetime', 'not a number of seconds');
      assert.equal(e.message, 'config.ini:12: key "min_lifetime" in [token ce.example.org:9619]: not a number of seconds');
      assert.equal(doc.errorAt('account cc.example', undefined, 'no password_file').message, 'config.ini:1: [account cc.example]: no password_file');
    });
  });

  describe('conformance with python3 configparser', function () {
    let python: Outcome[] = [];
    const names = Object.keys(CASES);

    before(function () {
      requireCommands(this, 'python3');
      const stdout = execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify(Object.values(CASES)), encoding: 'utf8' });
      python = JSON.parse(stdout) as Outcome[];
    });

    names.forEach((name, i) => {
      it(`matches configparser: ${name}`, () => {
        assert.deepEqual(ours(CASES[name] as string), python[i]);
      });
    });
  });
});
