// Spies on a node:fs function as lib's ES modules see it: their named imports are the builtin's
// ES exports, which follow the CommonJS object only through syncBuiltinESMExports().
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

type FsFunction = { [K in keyof typeof fs]: (typeof fs)[K] extends (...args: never[]) => unknown ? K : never }[keyof typeof fs];

/** Calls `onCall` with the arguments of every call of fs[name] until the returned restore(). */
export function spyOnFs(name: FsFunction, onCall: (...args: unknown[]) => void): () => void {
  const table = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = table[name]!;
  table[name] = (...args: unknown[]) => {
    onCall(...args);
    return original(...args);
  };
  syncBuiltinESMExports();
  return () => {
    table[name] = original;
    syncBuiltinESMExports();
  };
}

/** How many times `run` calls fs[name]. */
export async function countFsCalls(name: FsFunction, run: () => unknown): Promise<number> {
  let calls = 0;
  const restore = spyOnFs(name, () => calls++);
  try {
    await run();
  } finally {
    restore();
  }
  return calls;
}
