import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEnvironment } from '../../core/environment.js';
import { ExitCode } from '../exit-codes.js';
import { createLogger } from '../../watch/log.js';
import { TokenWatcher } from '../../watch/watcher.js';
import { parseCommandArgs, parseSeconds, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  lifetime: { type: 'string' },
  duration: { type: 'string' },
} as const;

const SCOPES = ['storage.read:/', 'storage.modify:/', 'compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'wlcg'];

export const command: Command = {
  usage: `tokenenv demo [--lifetime SECONDS] [--duration SECONDS]

Starts a real OpenID provider (oidc-provider) on 127.0.0.1 issuing short-lived tokens by client
credentials, writes a temporary config with two tokens, and runs the watcher on it, so you can
watch tokens appear and refresh, and try tokenenv discover / inspect / status in another
terminal. Nothing outside a temporary directory is touched. Ctrl-C stops and cleans up.

  --lifetime S   token lifetime (default 60; min_lifetime is a third of it)
  --duration S   stop by itself after S seconds (default: run until Ctrl-C)`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('demo', args, OPTIONS);
    const lifetime = parseSeconds('--lifetime', values.lifetime, 5) ?? 60;
    const duration = parseSeconds('--duration', values.duration, 1);
    const { startDemoIssuer } = await import('../../demo/issuer.js');
    const environment = resolveEnvironment({ env: io.env });
    const dir = mkdtempSync(join(tmpdir(), 'tokenenv-demo-'));
    const secret = randomBytes(18).toString('base64url');
    const issuer = await startDemoIssuer({ accessTokenLifetime: lifetime, clients: [{ clientId: 'tokenenv-demo', clientSecret: secret, grantTypes: ['client_credentials'], scopes: SCOPES }] });
    const secretFile = join(dir, 'client.secret');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const tokenFile = join(dir, `bt_u${environment.euid}`);
    const minLifetime = Math.max(1, Math.floor(lifetime / 3));
    const configFile = join(dir, 'config.ini');
    writeFileSync(configFile, `# Written by tokenenv demo; removed when it stops.
[account demo]
issuer = ${issuer.url}
client_id = tokenenv-demo
client_secret_file = ${secretFile}

[token default]
account = demo
token_path = ${tokenFile}
audience = https://wlcg.cern.ch/jwt/v1/any
scope = storage.read:/ compute.read
min_lifetime = ${minLifetime}

[token ce]
account = demo
token_path = ${join(dir, `bt_u${environment.euid}-tokenenv-ce`)}
audience = ce.example.org:9619
scope = compute.create compute.modify compute.cancel compute.read
min_lifetime = ${minLifetime}
`, { mode: 0o600 });
    io.stderr(`tokenenv demo: an OpenID issuer at ${issuer.url} issues ${lifetime} s tokens; the watcher refreshes
them ${minLifetime} s before they expire. Files are in ${dir}. In another terminal, try:

  export BEARER_TOKEN_FILE=${tokenFile}
  tokenenv discover --explain >/dev/null
  tokenenv inspect
  tokenenv status --config ${configFile}
  rm ${tokenFile}        # and watch it come back

Ctrl-C stops the demo and removes everything.

`);
    const log = createLogger(io.stderr, io.env);
    const watcher = new TokenWatcher({ env: { ...io.env, XDG_RUNTIME_DIR: dir }, log, configFile });
    const cleanUp = async () => {
      await watcher.close();
      await issuer.close();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await watcher.start();
    } catch (error) {
      await cleanUp();
      throw error;
    }
    return new Promise<number>((done) => {
      let timer: NodeJS.Timeout | undefined;
      const stop = (why: string) => {
        clearTimeout(timer);
        log.log('info', `${why}: stopping the demo`);
        void cleanUp().then(() => {
          log.log('info', 'demo stopped, temporary files removed');
          done(ExitCode.ok);
        });
      };
      if (duration !== undefined) timer = setTimeout(() => stop(`${duration} s elapsed`), duration * 1000);
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  },
};
