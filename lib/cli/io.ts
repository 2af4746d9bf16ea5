// What a command needs from the process, injectable so commands can run inside tests.
import { fstatSync, writeSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { redact } from '../sources/source.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
}

// Writing straight to the descriptor spares a short-lived command the set-up of Node's stdio
// streams (about a millisecond); a non-blocking descriptor (EAGAIN) falls back to the stream.
const usedStreams = new Set<NodeJS.WriteStream>();

function writer(fd: 1 | 2, stream: () => NodeJS.WriteStream): (text: string) => void {
  return (text) => {
    const bytes = Buffer.from(text);
    let offset = 0;
    try {
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      usedStreams.add(stream());
      stream().write(bytes.subarray(offset));
    }
  };
}

/** Resolves once output that went through Node's streams (the EAGAIN fallback) is written. */
export async function flushOutput(): Promise<void> {
  for (const stream of usedStreams) {
    if (stream.writableLength > 0) await new Promise((resolve) => stream.once('drain', resolve));
  }
}

/** Whether `fd` is a terminal, without node:tty (3 ms to load, with net and the stream stack): a
 * character device with a Linux terminal major (consoles and /dev/tty: 4, 5; pseudo-terminals:
 * 136–143). Anything else, /dev/null included, is not. */
export function isTerminal(fd: number): boolean {
  try {
    const stats = fstatSync(fd);
    const major = (stats.rdev >> 8) & 0xfff;
    return stats.isCharacterDevice() && (major === 4 || major === 5 || (major >= 136 && major <= 143));
  } catch {
    return false;
  }
}

export const processIo: CliIo = {
  stdout: writer(1, () => process.stdout),
  stderr: writer(2, () => process.stderr),
  env: process.env,
  now: () => Date.now() / 1000,
};

export interface Command {
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
type Options = Record<string, OptionSpec>;
type OptionValue<O> = O extends { type: 'boolean' } ? (O extends { multiple: true } ? boolean[] : boolean) : (O extends { multiple: true } ? string[] : string);
type OptionValues<T extends Options> = { [K in keyof T]?: OptionValue<T[K]> };
export interface ParsedCommandArgs<T extends Options> {
  values: OptionValues<T> & { help?: boolean };
  positionals: string[];
}

/** One argument, in order: an option with its value (none for a boolean), or a positional. */
export type ArgToken = { kind: 'option'; name: string; value: string | undefined } | { kind: 'positional'; value: string };

/** A value for a usage error: quoted, shortened, and never anything that looks like a token. */
export function shown(value: string): string {
  const text = redact(value).replace(/[\x00-\x1f\x7f]/g, '?');
  return `'${text.length > 80 ? `${text.slice(0, 77)}...` : text}'`;
}

/** Whether an argument is an option rather than a value: `--name`, or `-x` with a letter
 * (`-5` and `-` are values). */
function looksLikeOption(arg: string): boolean {
  return /^--[^-]/.test(arg) || /^-[A-Za-z]/.test(arg);
}

/**
 * A command's arguments in order: `--name value`, `--name=value`, `-x value`, boolean `--flag`,
 * `--` ending the options. Every mistake is a one-line usage error (exit 2) naming the option and
 * the value, instead of node:util's parser messages. `--help` anywhere asks for the usage.
 */
function tokenize(command: string, args: string[], options: Options): ArgToken[] {
  const specs: Options = { help: { type: 'boolean', short: 'h' }, ...options };
  const shorts = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]));
  const tokens: ArgToken[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      for (const rest of args.slice(i + 1)) tokens.push({ kind: 'positional', value: rest });
      break;
    }
    if (!/^-./.test(arg)) {
      tokens.push({ kind: 'positional', value: arg });
      continue;
    }
    const long = arg.startsWith('--');
    const equals = long ? arg.indexOf('=') : -1;
    const written = equals < 0 ? (long ? arg : arg.slice(0, 2)) : arg.slice(0, equals);
    const name = long ? written.slice(2) : shorts.get(arg[1]!);
    if (name === undefined || !Object.hasOwn(specs, name)) throw usageError(command, `unknown option ${shown(written)}`);
    let inline = equals >= 0 ? arg.slice(equals + 1) : !long && arg.length > 2 ? arg.slice(2) : undefined;
    if (specs[name]!.type === 'boolean') {
      if (inline !== undefined) throw usageError(command, `${written} takes no value (given ${shown(inline)})`);
      if (name === 'help') throw new HelpRequested();
      tokens.push({ kind: 'option', name, value: undefined });
      continue;
    }
    if (inline === undefined) {
      inline = args[++i];
      if (inline === undefined) throw usageError(command, `${written} needs a value`);
      if (looksLikeOption(inline)) throw usageError(command, `${written} needs a value, not the option ${shown(inline)} (for a value starting with '-', write ${written}=VALUE)`);
    }
    tokens.push({ kind: 'option', name, value: inline });
  }
  return tokens;
}

function usageError(command: string, text: string): UsageError {
  return new UsageError(`${command}: ${text} (see tokenenv help ${command})`);
}

/** A command's options and positionals (see tokenize); a repeated option keeps its last value,
 * or all of them with `multiple`. */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T, maxPositionals = 0): ParsedCommandArgs<T> {
  const values: Record<string, string | boolean | (string | boolean)[]> = {};
  const positionals: string[] = [];
  for (const token of tokenize(command, args, options)) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    const value = token.value ?? true;
    values[token.name] = options[token.name]?.multiple ? [...((values[token.name] as (string | boolean)[] | undefined) ?? []), value] : value;
  }
  if (positionals.length > maxPositionals) {
    const what = maxPositionals === 0 ? 'it takes no arguments' : `it takes at most ${maxPositionals}`;
    throw usageError(command, `unexpected argument ${shown(positionals[maxPositionals]!)}: ${what}`);
  }
  return { values: values as ParsedCommandArgs<T>['values'], positionals };
}

/** parseCommandArgs with the options in order, for options whose order matters; no positionals. */
export function parseCommandArgsWithTokens<T extends Options>(command: string, args: string[], options: T): { tokens: ArgToken[] } {
  const tokens = tokenize(command, args, options);
  const positional = tokens.find((t) => t.kind === 'positional');
  if (positional) throw usageError(command, `unexpected argument ${shown(positional.value)}: it takes no arguments`);
  return { tokens };
}

/** `--help` among a command's own options: main prints the command's usage. */
export class HelpRequested extends Error {}

export function isHelpRequest(error: unknown): boolean {
  return error instanceof HelpRequested;
}

/** A whole number of seconds (at least `min`, default 0) from an option, or a usage error naming it. */
export function parseSeconds(option: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option}: ${shown(value)} is not a whole number of seconds`);
  const seconds = Number(value);
  if (seconds < min) throw new UsageError(`${option}: ${shown(value)}: at least ${min} seconds`);
  return seconds;
}
