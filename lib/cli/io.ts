// What a command needs from the process, injectable so commands can run inside tests.
import { writeSync } from 'node:fs';
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

type OptionSpec = { type: 'string' | 'boolean'; short?: string };
type Options = Record<string, OptionSpec>;
type OptionValues<T extends Options> = { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
export interface ParsedCommandArgs<T extends Options> {
  values: OptionValues<T> & { help?: boolean };
  positionals: string[];
}

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
 * A command's arguments: `--name value`, `--name=value`, `-x value`, boolean `--flag`, `--`
 * ending the options. Every mistake is a one-line usage error (exit 2) naming the option and
 * the value, instead of node:util's parser messages.
 */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T, maxPositionals = 0): ParsedCommandArgs<T> {
  const specs: Options = { help: { type: 'boolean', short: 'h' }, ...options };
  const shorts = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([name, s]) => [s.short!, name]));
  const usage = (text: string) => new UsageError(`${command}: ${text} (see tokenenv help ${command})`);
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!looksLikeOption(arg) && !/^-./.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const equals = long ? arg.indexOf('=') : -1;
    const written = equals < 0 ? (long ? arg : arg.slice(0, 2)) : arg.slice(0, equals);
    const name = long ? written.slice(2) : shorts.get(arg[1]!);
    const spec = name === undefined ? undefined : specs[name];
    if (name === undefined || !spec || !Object.hasOwn(specs, name)) throw usage(`unknown option ${shown(written)}`);
    let inline = equals >= 0 ? arg.slice(equals + 1) : !long && arg.length > 2 ? arg.slice(2) : undefined;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw usage(`${written} takes no value (given ${shown(inline)})`);
      values[name] = true;
      continue;
    }
    if (inline === undefined) {
      inline = args[++i];
      if (inline === undefined) throw usage(`${written} needs a value`);
      if (looksLikeOption(inline)) throw usage(`${written} needs a value, not the option ${shown(inline)} (for a value starting with '-', write ${written}=VALUE)`);
    }
    values[name] = inline;
  }
  if (values.help) throw new HelpRequested();
  if (positionals.length > maxPositionals) {
    const what = maxPositionals === 0 ? 'it takes no arguments' : `it takes at most ${maxPositionals}`;
    throw usage(`unexpected argument ${shown(positionals[maxPositionals]!)}: ${what}`);
  }
  return { values: values as ParsedCommandArgs<T>['values'], positionals };
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
