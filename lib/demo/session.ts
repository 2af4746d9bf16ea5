// Everything the demo sets up in its temporary directory: the issuer (and its clients), an
// oidc-agent account when oidc-agent is installed, the stand-ins on PATH and the config the
// watcher runs on. `close()` undoes all of it; `removeNow()` is the synchronous last resort.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WLCG_ANY_AUDIENCE } from '../token/claims.js';
import { missingAgentCommands, startDemoAgent, type DemoAgent } from './agent.js';
import { startDemoIssuer, type DemoIssuer } from './issuer.js';
import { writeStandIns } from './stand-ins.js';

const SCOPES = ['storage.read:/', 'storage.modify:/', 'compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'wlcg'];
export const DEMO_CE = 'ce.example.org';

export interface DemoSessionOptions {
  /** Access token lifetime, seconds. */
  lifetime: number;
  /** Create an oidc-agent account when oidc-agent is installed. */
  agent: boolean;
  env: Readonly<Record<string, string | undefined>>;
  euid: number;
  /** The tokenenv that runs the demo, for DIR/bin/tokenenv. */
  cli: { node: string; script: string };
}

export interface DemoSession {
  dir: string;
  bin: string;
  configFile: string;
  /** The default token's file: where discovery looks with XDG_RUNTIME_DIR=dir. */
  tokenFile: string;
  minLifetime: number;
  issuer: DemoIssuer;
  agent?: DemoAgent;
  /** Why there is no oidc-agent account, when there is none. */
  agentNote?: string;
  close(): Promise<void>;
  removeNow(): void;
}

export async function startDemoSession(options: DemoSessionOptions): Promise<DemoSession> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenenv-demo-'));
  const removeNow = () => rmSync(dir, { recursive: true, force: true });
  let issuer: DemoIssuer | undefined;
  let agent: DemoAgent | undefined;
  try {
    const secret = randomBytes(18).toString('base64url');
    const agentClient = { clientId: 'tokenenv-demo-agent', clientSecret: randomBytes(18).toString('base64url') };
    issuer = await startDemoIssuer({
      accessTokenLifetime: options.lifetime,
      clients: [
        { clientId: 'tokenenv-demo', clientSecret: secret, grantTypes: ['client_credentials'], scopes: SCOPES },
        { ...agentClient, grantTypes: ['refresh_token'], scopes: SCOPES },
      ],
    });
    const secretFile = join(dir, 'client.secret');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const minLifetime = Math.max(1, Math.floor(options.lifetime / 3));
    const tokenFile = join(dir, `bt_u${options.euid}`);
    const bin = writeStandIns(dir, options.cli, DEMO_CE);

    let agentNote: string | undefined;
    const missing = missingAgentCommands(options.env);
    if (!options.agent) agentNote = 'left out (--no-agent)';
    else if (missing.length) agentNote = `not installed (${missing.join(', ')}): install oidc-agent to see an oidc-agent account too`;
    else {
      const agentDir = join(dir, 'agent');
      mkdirSync(agentDir, { mode: 0o700 });
      try {
        agent = await startDemoAgent({ dir: agentDir, issuer, client: agentClient, scopes: SCOPES, env: options.env });
      } catch (error) {
        agentNote = `could not be set up: ${(error as Error).message}`;
      }
    }

    const configFile = join(dir, 'config.ini');
    const token = (name: string, path: string, account: string, audience: string, scope: string) =>
      `[token ${name}]\naccount = ${account}\ntoken_path = ${path}\naudience = ${audience}\nscope = ${scope}\nmin_lifetime = ${minLifetime}\n`;
    const sections = [
      '# Written by tokenenv demo; removed when it stops.',
      `[account demo]\nissuer = ${issuer.url}\nclient_id = tokenenv-demo\nclient_secret_file = ${secretFile}\n`,
      token('default', tokenFile, 'demo', WLCG_ANY_AUDIENCE, 'storage.read:/ compute.read'),
      token('ce', join(dir, `bt_u${options.euid}-tokenenv-ce`), 'demo', `${DEMO_CE}:9619`, 'compute.create compute.modify compute.cancel compute.read'),
    ];
    if (agent) {
      sections.push(`[account agent]\ntype = oidc-agent\noidc_account = ${agent.account}\noidc_sock = ${agent.socket}\npassword_file = ${agent.passwordFile}\n`,
        token('agent', join(dir, `bt_u${options.euid}-tokenenv-agent`), 'agent', WLCG_ANY_AUDIENCE, 'storage.read:/'));
    }
    writeFileSync(configFile, sections.join('\n'), { mode: 0o600 });

    const openIssuer = issuer;
    const openAgent = agent;
    return {
      dir, bin, configFile, tokenFile, minLifetime, issuer, ...(agent ? { agent } : {}), ...(agentNote ? { agentNote } : {}),
      async close() {
        await openAgent?.stop();
        await openIssuer.close();
        removeNow();
      },
      removeNow() {
        openAgent?.kill();
        removeNow();
      },
    };
  } catch (error) {
    await agent?.stop();
    await issuer?.close();
    removeNow();
    throw error;
  }
}
