// Runs the real `tokenenv` command as a child process. `privateTmp` bind-mounts a sandbox
// directory over /tmp in a private mount namespace, so discovery's last step reads it instead of
// the machine's /tmp; `uid` runs the command as another user (root only).
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const tokenenvBin = join(repoRoot, 'bin', 'tokenenv.cjs');

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  privateTmp?: string;
  uid?: number;
  input?: string;
  cwd?: string;
  /** runTokenenvAsync: called with the whole stdout so far each time more arrives (to answer a
   * prompt, or approve a device code, while the command runs). */
  onStdout?: (stdout: string) => void;
}

let namespaceSupport: boolean | undefined;

/** Whether this machine lets us give a command a private /tmp (root, or user namespaces). */
export function privateTmpAvailable(): boolean {
  if (namespaceSupport === undefined) {
    const probe = spawnSync(wrapCommand(['true'], { privateTmp: '/tmp' })[0]!, wrapCommand(['true'], { privateTmp: '/tmp' }).slice(1), { stdio: 'ignore' });
    namespaceSupport = probe.status === 0;
  }
  return namespaceSupport;
}

function unshareArgs(): string[] {
  return process.geteuid?.() === 0 ? ['--mount', '--propagation', 'private'] : ['--user', '--map-root-user', '--mount'];
}

// Inside a new mount namespace: keep the real /tmp reachable under a tmpfs on /mnt, mount the
// fake directory over /tmp, then mount back the paths under the real /tmp that the command needs
// (the sandbox, the checkout when it lives in /tmp, as in a CI clone).
const PRIVATE_TMP_SCRIPT = `set -e
fake=$1 keep=$2
shift 2
mount -t tmpfs -o size=1m,mode=0755 tokenenv-test /mnt
mkdir /mnt/tmp
mount --bind /tmp /mnt/tmp
mount --bind "$fake" /tmp
IFS=:
for path in $keep; do
  rel=\${path#/tmp/}
  mkdir -p "/tmp/$rel"
  mount --bind "/mnt/tmp/$rel" "/tmp/$rel"
done
unset IFS
exec "$@"`;

/**
 * Wraps argv so it runs with `privateTmp` mounted over /tmp and, optionally, as `uid`.
 * `keep`: paths under the real /tmp that must stay visible (the fake dir's parent and the
 * checkout are added).
 */
export function wrapCommand(argv: string[], options: { privateTmp?: string; uid?: number; keep?: string[] }): string[] {
  let command = argv;
  if (options.uid !== undefined) {
    command = ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', ...command];
  }
  if (options.privateTmp !== undefined) {
    const keep = [dirname(options.privateTmp), repoRoot, ...(options.keep ?? [])].filter((p) => p.startsWith('/tmp/'));
    command = ['unshare', ...unshareArgs(), 'sh', '-c', PRIVATE_TMP_SCRIPT, 'sh', options.privateTmp, keep.join(':'), ...command];
  }
  return command;
}

export function runTokenenv(args: string[], options: CliOptions = {}): CliRun {
  const [file, ...rest] = wrapCommand([process.execPath, tokenenvBin, ...args], options);
  const result = spawnSync(file!, rest, {
    env: childEnv(options),
    input: options.input ?? '',
    cwd: options.cwd ?? repoRoot,
    timeout: 20_000,
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function childEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env = { PATH: process.env.PATH, ...options.env };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
}

/** runTokenenv without blocking the event loop: needed when a server in this process (the demo
 * issuer) must answer the command. */
export function runTokenenvAsync(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const [file, ...rest] = wrapCommand([process.execPath, tokenenvBin, ...args], options);
  return new Promise((resolve, reject) => {
    const child = spawn(file!, rest, { env: childEnv(options), cwd: options.cwd ?? repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      options.onStdout?.(stdout);
    });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
