// What a command needs from the process, injectable so commands can run inside tests.
import { writeSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.js';

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

type Options = NonNullable<ParseArgsConfig['options']>;
type OptionValues<T extends Options> = { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
export interface ParsedCommandArgs<T extends Options> {
  values: OptionValues<T> & { help?: boolean };
  positionals: string[];
}

/** node:util parseArgs in strict mode, with its errors turned into usage errors (exit 2). */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T, maxPositionals = 0): ParsedCommandArgs<T> {
  let parsed: ParsedCommandArgs<T>;
  try {
    const config = { args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true } as const;
    parsed = parseArgs(config) as unknown as ParsedCommandArgs<T>;
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) throw new HelpRequested();
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument #${maxPositionals + 1}`);
  }
  return parsed;
}

/** parseCommandArgs with the options in order (`tokens`), for options whose order matters. */
export function parseCommandArgsWithTokens<T extends Options>(command: string, args: string[], options: T): { tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: false, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) throw new HelpRequested();
  return { tokens: parsed.tokens ?? [] };
}

/** `--help` among a command's own options: main prints the command's usage. */
export class HelpRequested extends Error {}

export function isHelpRequest(error: unknown): boolean {
  return error instanceof HelpRequested;
}

/** A non-negative whole number of seconds from an option, or a usage error naming it. */
export function parseSeconds(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} takes a whole number of seconds`);
  return Number(value);
}
