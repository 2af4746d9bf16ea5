// Editing a config file without disturbing it: whole sections are replaced in place or appended,
// and every other byte (comments, blank lines, line endings, other sections) stays as it was.
import { parseIni } from './ini.js';

export interface NewSection {
  /** The header's name, e.g. `account wlcg`. */
  name: string;
  /** Body lines, without line endings; values must already be escaped (see iniValue). */
  lines: string[];
}

/** A value as configparser will read it back: `%` starts an interpolation, so it is doubled. */
export function iniValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('a config value cannot contain a line break');
  return value.replace(/%/g, '%%');
}

/** `[account  x]` and `[account x]` are the same section to tokenenv (it trims the name). */
function sameSection(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\s+/, ' ');
  return norm(a) === norm(b);
}

/**
 * Replaces each section of `sections` where `text` has it, else appends it. A section spans its
 * header to its last key or continuation line: comments and blank lines after that are left
 * where they are (they usually introduce the next section). Throws IniError when `text` cannot be
 * parsed: a file we cannot read is not one to edit.
 */
export function upsertSections(text: string, file: string, sections: NewSection[]): string {
  const doc = parseIni(text, file);
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  // Lines with their own endings, so untouched lines are joined back byte for byte.
  const lines = text === '' ? [] : text.split(/(?<=\r\n|\r(?!\n)|\n)/);
  const isContent = (line: string) => !/^\s*([#;]|$)/.test(line);
  // Every header line ends the section before it. A repeated [DEFAULT] header is not in the
  // parsed document (its keys merge into the first), so such lines count too.
  const headers = [...doc.sections.map((s) => s.line), ...(doc.defaults ? [doc.defaults.line] : []),
    ...lines.flatMap((line, i) => (/^\[DEFAULT\]/.test(line) ? [i + 1] : []))].sort((a, b) => a - b);

  const replacements: { start: number; end: number; section: NewSection }[] = [];
  const appended: NewSection[] = [];
  for (const section of sections) {
    const existing = doc.sections.find((s) => sameSection(s.name, section.name));
    if (!existing) {
      appended.push(section);
      continue;
    }
    const next = headers.find((line) => line > existing.line) ?? lines.length + 1;
    let end = existing.line;
    for (let line = existing.line + 1; line < next; line++) if (isContent(lines[line - 1]!)) end = line;
    replacements.push({ start: existing.line, end, section });
  }
  const render = (section: NewSection) => [`[${section.name}]`, ...section.lines].map((line) => line + eol);
  // Bottom up, so that earlier line numbers stay valid.
  for (const { start, end, section } of replacements.sort((a, b) => b.start - a.start)) {
    lines.splice(start - 1, end - start + 1, ...render(section));
  }
  for (const section of appended) {
    const last = lines.at(-1);
    if (last !== undefined && !/[\r\n]$/.test(last)) lines[lines.length - 1] = last + eol;
    if (last !== undefined && /\S/.test(last)) lines.push(eol); // a blank line between sections
    lines.push(...render(section));
  }
  return lines.join('');
}
