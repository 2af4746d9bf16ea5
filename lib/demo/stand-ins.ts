// The demo's bin directory, put first on PATH in the lines it prints: `tokenenv` (this very
// tokenenv, whether or not one is installed on PATH) and a stand-in for HTCondor's `condor_q`,
// which shows the token a wrapped call gets and whether the CE would accept it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Writes DIR/bin/{tokenenv,condor_q}; returns the bin directory. */
export function writeStandIns(dir: string, cli: { node: string; script: string }, defaultPool: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const tokenenv = `${shellQuote(cli.node)} ${shellQuote(cli.script)}`;
  const write = (name: string, text: string) => {
    writeFileSync(join(bin, name), text, { mode: 0o700 });
    chmodSync(join(bin, name), 0o700);
  };
  write('tokenenv', `#!/bin/sh
# tokenenv demo: the tokenenv that runs the demo.
exec ${tokenenv} "$@"
`);
  write('condor_q', `#!/bin/sh
# tokenenv demo: a stand-in for HTCondor's condor_q. It reads the token as HTCondor does
# (BEARER_TOKEN_FILE) and shows whether the CE named by -pool would accept it for condor_q.
pool=${shellQuote(defaultPool)}
while [ $# -gt 0 ]; do
  case "$1" in -pool|-name) [ $# -gt 1 ] && pool=$2 && shift ;; esac
  shift
done
case "$pool" in *:*) ;; *) pool="$pool:9619" ;; esac
if [ -z "\${BEARER_TOKEN_FILE:-}" ]; then
  echo 'condor_q (demo stand-in): no BEARER_TOKEN_FILE: the call was not wrapped' >&2
  exit 1
fi
echo "condor_q (demo stand-in) for $pool got BEARER_TOKEN_FILE=$BEARER_TOKEN_FILE"
exec ${tokenenv} inspect --verify --for "$pool" --op condor_q "$BEARER_TOKEN_FILE"
`);
  return bin;
}
