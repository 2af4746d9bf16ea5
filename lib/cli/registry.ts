// The one list of tokenenv's commands: name and summary (for --help, without loading any
// command). shell/tokenenv.sh completes the same names (a test compares both lists).
export interface CommandEntry {
  name: string;
  summary: string;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'discover', summary: 'find the bearer token by WLCG discovery and print it' },
  { name: 'inspect', summary: 'show what a token says: issuer, audience, scopes, expiry (never the token)' },
  { name: 'refresh', summary: 'fetch fresh tokens from their sources when they are missing or about to expire' },
  { name: 'config', summary: 'check the config (every problem with file, line and key) or show it, secrets masked' },
  { name: 'watch', summary: 'keep every configured token fresh, in one long-running process' },
  { name: 'status', summary: 'show every configured token: lifetime left, next refresh, last result' },
  { name: 'exec', summary: 'run a command with BEARER_TOKEN_FILE set to a token kept fresh while it runs' },
  { name: 'systemd', summary: 'write systemd user units: a watcher service, or a refresh service with a timer' },
  { name: 'demo', summary: 'see it work: a local OpenID issuer, short-lived tokens appearing and refreshing' },
  { name: 'doctor', summary: 'check the whole chain: discovery, token file, expiry, clock, config, agent, watcher, clients' },
  { name: 'setup', summary: 'create an account and its token in a few questions, and fetch the first token' },
  { name: 'shell-token', summary: 'the shell wrappers\' slow path: make sure a fresh token exists and print its file' },
  { name: 'shell-path', summary: 'print the path of shell/tokenenv.sh (for scripts: source "$(tokenenv shell-path)")' },
  { name: 'init', summary: 'print the ~/.bashrc or ~/.zshrc lines that load the shell integration: tokenenv init bash >> ~/.bashrc' },
];

export function isCommand(name: string): boolean {
  return COMMANDS.some((c) => c.name === name);
}
