// An INI reader with the semantics of Python 3.11's `configparser.ConfigParser()` with default
// options, which is how osg-token-renewer reads its config.ini (`ConfigParser()` then `.read()`).
// tokenenv must read those files unchanged, so this follows configparser's `_read` line by line:
//
// - delimiters `=` and `:`, the first one on the line wins; keys and values are stripped;
// - full-line comments start with `#` or `;` after optional indentation; there are NO inline
//   comments (`url = https://x/#a ; b` keeps the whole value);
// - a line indented deeper than its key line continues the value (joined with "\n", each line
//   stripped); blank lines inside a value are kept, trailing ones dropped; comment lines inside a
//   value are skipped without ending it (empty_lines_in_values=True);
// - section names are case-sensitive and verbatim (`[account my.name]`, `[token a;b]`); keys are
//   lowercased (optionxform); `[DEFAULT]` keys are inherited by every section;
// - strict=True: a duplicate section or key is an error; allow_no_value=False: `key` alone is an
//   error (`key =` is an empty value);
// - BasicInterpolation at lookup time: `%%` → `%`, `%(name)s` → the value of name in the same
//   section or DEFAULT (recursively, at most 10 levels), any other `%` is an error.
//
// Deliberate addition: interpolation is bounded in size as well as depth. Ten levels of ten
// references each expand a 714-byte file into 10^10 characters (a "billion laughs"), which
// Python builds for minutes and V8 cannot build at all. A value may expand to at most
// MAX_INTERPOLATED_LENGTH characters, and one document's lookups together to MAX_DOCUMENT_EXPANSION:
// beyond either, the lookup is an InterpolationSizeError with file, line and key.
//
// Line breaks are those of a Python text file (universal newlines: "\n", "\r\n", "\r") and
// "whitespace" is Python's str.isspace() set, which differs from JavaScript's \s.
//
// Deliberate deviation: a UTF-8 byte-order mark at the start of the text is dropped. configparser
// (reading with encoding utf-8) keeps it as part of the first line, so a file saved "with BOM"
// fails there with MissingSectionHeaderError; the mark is invisible in editors and carries no
// meaning, so refusing the file would only puzzle users.
//
// Error messages name file, line, section and key, and never contain a value or the text of a bad
// line: a malformed `client_secret s3cr3t` line must not end up in a log.

import { TokenenvError, type ErrorCode } from '../core/errors.js';

export const DEFAULT_SECTION = 'DEFAULT';

/** configparser's MAX_INTERPOLATION_DEPTH. */
export const MAX_INTERPOLATION_DEPTH = 10;
/** Characters one interpolated value may have (tokenenv's own bound; configparser has none). */
export const MAX_INTERPOLATED_LENGTH = 64 * 1024;
/** Characters all interpolated lookups in one document may produce together. */
export const MAX_DOCUMENT_EXPANSION = 4 * 1024 * 1024;

/** Python's exception class names, so tests and callers can match configparser one to one. */
export type IniErrorKind =
  | 'MissingSectionHeaderError'
  | 'ParsingError'
  | 'DuplicateSectionError'
  | 'DuplicateOptionError'
  | 'InterpolationSyntaxError'
  | 'InterpolationMissingOptionError'
  | 'InterpolationDepthError'
  /** tokenenv's own: an interpolated value over MAX_INTERPOLATED_LENGTH (see the top). */
  | 'InterpolationSizeError'
  /** tokenenv's own: the file itself may not be used (see lib/files/trust.ts). */
  | 'UntrustedFileError'
  /** Raised by callers through IniDocument.errorAt(): a value that is well-formed INI but wrong. */
  | 'InvalidValueError';

export interface IniErrorLocation {
  file: string;
  line: number;
  section?: string;
  key?: string;
}

export class IniError extends TokenenvError {
  override name = 'IniError';
  // A broken config is the caller's to fix, like a bad option: exit 2.
  override readonly code: ErrorCode = 'ERR_CONFIG';
  readonly file: string;
  readonly line: number;
  readonly section?: string;
  readonly key?: string;

  constructor(
    readonly kind: IniErrorKind,
    where: IniErrorLocation,
    readonly problem: string,
    /** For ParsingError: every bad line, in order (configparser reports them all at once). */
    readonly lines: readonly number[] = [where.line],
  ) {
    // Line 0: a problem with the whole file (its owner or mode), not with one line.
    super(`${where.file}${where.line > 0 ? `:${where.line}` : ''}: ${describe(where)}${problem}`);
    this.file = where.file;
    this.line = where.line;
    if (where.section !== undefined) this.section = where.section;
    if (where.key !== undefined) this.key = where.key;
  }
}

function describe({ section, key }: IniErrorLocation): string {
  if (key !== undefined) return `key "${key}" in [${section ?? DEFAULT_SECTION}]: `;
  if (section !== undefined) return `[${section}]: `;
  return '';
}

/** Key names whose values must never appear in a message (client_secret, password_file's
 * neighbours, a token pasted into the config...). ini.ts never prints values at all; this also
 * keeps text taken from such a value (an interpolation reference name) out of messages. */
export function looksSecret(key: string): boolean {
  return /secret|passw|passphrase|credential|private|(^|_)token$|bearer/i.test(key);
}

export interface IniEntry {
  /** Lowercased key. */
  readonly key: string;
  /** Raw value: continuation lines joined with "\n", no interpolation. */
  readonly value: string;
  /** 1-based line of `key = ...`. */
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  /** 1-based line of the (first, for DEFAULT) header. */
  readonly line: number;
  /** Own keys in file order (not the inherited DEFAULT ones). */
  readonly entries: ReadonlyMap<string, IniEntry>;
}

export class IniDocument {
  constructor(
    readonly file: string,
    private readonly sectionMap: ReadonlyMap<string, IniSection>,
    /** The [DEFAULT] section, or undefined when the file has none. */
    readonly defaults: IniSection | undefined,
  ) {}

  /** Sections in file order, without DEFAULT (configparser's sections()). */
  get sections(): IniSection[] {
    return [...this.sectionMap.values()];
  }

  sectionNames(): string[] {
    return [...this.sectionMap.keys()];
  }

  /** A section by its exact name; "DEFAULT" gives the defaults. */
  section(name: string): IniSection | undefined {
    return name === DEFAULT_SECTION ? this.defaults : this.sectionMap.get(name);
  }

  /** Own keys, then inherited DEFAULT keys (configparser's options()); [] for no such section. */
  keys(section: string): string[] {
    if (section !== DEFAULT_SECTION && !this.sectionMap.has(section)) return [];
    const own = [...(this.sectionMap.get(section)?.entries.keys() ?? [])];
    const inherited = [...(this.defaults?.entries.keys() ?? [])].filter((k) => !own.includes(k));
    return [...own, ...inherited];
  }

  /** Where `key` is defined for `section`: the section itself, else DEFAULT. Case-insensitive key. */
  entry(section: string, key: string): IniEntry | undefined {
    const name = key.toLowerCase();
    if (section !== DEFAULT_SECTION) {
      const own = this.sectionMap.get(section);
      if (own === undefined) return undefined;
      const hit = own.entries.get(name);
      if (hit !== undefined) return hit;
    }
    return this.defaults?.entries.get(name);
  }

  has(section: string, key: string): boolean {
    return this.entry(section, key) !== undefined;
  }

  /** The value without interpolation (configparser's get(..., raw=True)), or undefined. */
  getRaw(section: string, key: string): string | undefined {
    return this.entry(section, key)?.value;
  }

  /** The interpolated value, or undefined when the section or key does not exist (unlike Python,
   * which raises NoSectionError/NoOptionError). Throws IniError for bad `%` syntax. */
  get(section: string, key: string): string | undefined {
    const entry = this.entry(section, key);
    if (entry === undefined) return undefined;
    if (!entry.value.includes('%')) return entry.value;
    const out: Expansion = { parts: [], length: 0 };
    this.interpolate(section, entry, entry, 1, out);
    this.expanded += out.length;
    if (this.expanded > MAX_DOCUMENT_EXPANSION) {
      throw new IniError('InterpolationSizeError', { file: this.file, line: entry.line, section, key: entry.key },
        `%(name)s references in this file expand to more than ${MAX_DOCUMENT_EXPANSION} characters in all`);
    }
    return out.parts.join('');
  }

  /** Characters produced by interpolation so far (bounded by MAX_DOCUMENT_EXPANSION). */
  private expanded = 0;

  /** An error pointing at `key` in `section` (or at the section header): for later validation. */
  errorAt(section: string, key: string | undefined, problem: string): IniError {
    const entry = key === undefined ? undefined : this.entry(section, key);
    const line = entry?.line ?? this.section(section)?.line ?? 0;
    const where: IniErrorLocation = { file: this.file, line, section };
    if (key !== undefined) where.key = key.toLowerCase();
    return new IniError('InvalidValueError', where, problem);
  }

  // BasicInterpolation._interpolate_some, scanning `current` (the looked-up entry, or one it
  // refers to) for `%`. References resolve in `section`, then DEFAULT, even inside a DEFAULT value.
  private interpolate(section: string, looked: IniEntry, current: IniEntry, depth: number, out: Expansion): void {
    const fail = (kind: IniErrorKind, problem: string): IniError => {
      const via = current === looked ? '' : ` (in the value of "${current.key}", line ${current.line}, which it refers to)`;
      return new IniError(kind, { file: this.file, line: looked.line, section, key: looked.key }, problem + via);
    };
    if (depth > MAX_INTERPOLATION_DEPTH) {
      throw fail('InterpolationDepthError', `%(name)s references nested more than ${MAX_INTERPOLATION_DEPTH} levels deep (a reference loop?)`);
    }
    const push = (text: string) => {
      out.length += text.length;
      if (out.length > MAX_INTERPOLATED_LENGTH) {
        throw fail('InterpolationSizeError', `%(name)s references expand to more than ${MAX_INTERPOLATED_LENGTH} characters (references nested to multiply?)`);
      }
      out.parts.push(text);
    };
    const raw = current.value;
    let i = 0;
    while (i < raw.length) {
      const p = raw.indexOf('%', i);
      if (p < 0) {
        push(raw.slice(i));
        return;
      }
      push(raw.slice(i, p));
      const next = raw[p + 1];
      const at = `'%' at character ${p + 1} of the value`;
      if (next === '%') {
        push('%');
        i = p + 2;
      } else if (next === '(') {
        const reference = /%\(([^)]+)\)s/y;
        reference.lastIndex = p;
        const m = reference.exec(raw);
        if (m === null) throw fail('InterpolationSyntaxError', `${at} starts a bad reference: expected %(name)s`);
        const name = (m[1] as string).toLowerCase();
        i = p + m[0].length;
        const target = this.entry(section, name);
        if (target === undefined) {
          const what = looksSecret(looked.key) || looksSecret(current.key) ? `the reference ${at}` : `%(${name})s`;
          throw fail('InterpolationMissingOptionError', `${what} names a key that is not set in [${section}] or [${DEFAULT_SECTION}] (write '%%' for a literal percent sign)`);
        }
        if (target.value.includes('%')) this.interpolate(section, looked, target, depth + 1, out);
        else push(target.value);
      } else {
        throw fail('InterpolationSyntaxError', `${at} must be followed by '%' or '(' (write '%%' for a literal percent sign)`);
      }
    }
  }
}

interface Expansion {
  parts: string[];
  length: number;
}

// Python's str.isspace() set (also what `re`'s \s matches on str). JavaScript's \s lacks
// \x1c-\x1f and \x85 and adds U+FEFF.
const WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const OUTER_WS = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const TRAILING_WS = new RegExp(`[${WS}]+$`);
const NON_SPACE = new RegExp(`[^${WS}]`);

const strip = (s: string): string => s.replace(OUTER_WS, '');
const rstrip = (s: string): string => s.replace(TRAILING_WS, '');

interface Building {
  name: string;
  line: number;
  entries: Map<string, { key: string; parts: string[]; line: number }>;
}

/** Parse INI text as configparser.ConfigParser().read() would. Throws IniError. */
export function parseIni(text: string, fileName: string): IniDocument {
  if (text.startsWith('\ufeff')) text = text.slice(1); // see the note on BOMs at the top
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop(); // text ends with a line break (or is empty)

  const sections = new Map<string, Building>();
  let defaults: Building | undefined;
  const at = (line: number, section?: string, key?: string): IniErrorLocation => {
    const where: IniErrorLocation = { file: fileName, line };
    if (section !== undefined) where.section = section;
    if (key !== undefined) where.key = key;
    return where;
  };

  let current: Building | undefined;
  let optname: string | undefined; // '' after a `= value` line, which (as in Python) takes no continuations
  let indentLevel = 0;
  const badLines: { line: number; problem: string }[] = [];

  lines.forEach((line, index) => {
    const lineno = index + 1;
    const isComment = /^[#;]/.test(strip(line));
    const value = isComment ? '' : strip(line);
    if (value === '') {
      // A blank (not comment) line belongs to the value being read; trailing ones are dropped below.
      if (!isComment && current !== undefined && optname) current.entries.get(optname)?.parts.push('');
      return;
    }
    const indent = line.search(NON_SPACE);
    if (current !== undefined && optname && indent > indentLevel) {
      current.entries.get(optname)?.parts.push(value);
      return;
    }
    indentLevel = indent;

    // Greedy, and text after the last ']' is ignored, as in Python; Python's '.' is anything but
    // "\n", while JavaScript's also stops at "\r", U+2028 and U+2029.
    const header = /^\[([^\n]+)\]/.exec(value);
    if (header !== null) {
      const name = header[1] as string;
      if (name === DEFAULT_SECTION) {
        defaults ??= { name, line: lineno, entries: new Map() };
        current = defaults; // [DEFAULT] may be repeated; its keys still may not
      } else {
        const earlier = sections.get(name);
        if (earlier !== undefined) {
          throw new IniError('DuplicateSectionError', at(lineno, name), `section already defined on line ${earlier.line}`);
        }
        current = { name, line: lineno, entries: new Map() };
        sections.set(name, current);
      }
      optname = undefined; // so a section cannot start with a continuation line
      return;
    }
    if (current === undefined) {
      throw new IniError('MissingSectionHeaderError', at(lineno), 'no [section] header before this line (the file must start with one, e.g. [DEFAULT])');
    }

    const delimiter = value.search(/[=:]/);
    if (delimiter < 0) {
      badLines.push({ line: lineno, problem: "line is neither a [section] header nor a 'key = value' option (it has no '=' or ':'; keys without a value are not allowed)" });
      return;
    }
    const key = rstrip(value.slice(0, delimiter)).toLowerCase();
    if (key === '') badLines.push({ line: lineno, problem: `no key name before '${value[delimiter]}'` });
    const earlier = current.entries.get(key);
    if (earlier !== undefined) {
      throw new IniError('DuplicateOptionError', at(lineno, current.name, key), `key already set on line ${earlier.line} of this section (keys are case-insensitive)`);
    }
    current.entries.set(key, { key, parts: [strip(value.slice(delimiter + 1))], line: lineno });
    optname = key;
  });

  const first = badLines[0];
  if (first !== undefined) {
    const others = badLines.slice(1).map((b) => b.line);
    const more = others.length === 0 ? '' : ` (more bad lines: ${others.join(', ')})`;
    throw new IniError('ParsingError', at(first.line), first.problem + more, badLines.map((b) => b.line));
  }

  const finish = (b: Building): IniSection => ({
    name: b.name,
    line: b.line,
    entries: new Map([...b.entries].map(([k, e]) => [k, { key: k, value: rstrip(e.parts.join('\n')), line: e.line }])),
  });
  const finished = new Map([...sections].map(([name, b]) => [name, finish(b)]));
  return new IniDocument(fileName, finished, defaults === undefined ? undefined : finish(defaults));
}
