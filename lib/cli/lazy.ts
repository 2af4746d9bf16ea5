// The modules the CLI loads only when a command needs them. In the CLI bundle they are one
// CommonJS bundle sharing this bundle's modules (scripts/bundle-cli.mjs defines the loader); in
// the plain ES module build, import().
declare const TOKENENV_LOAD_COMMANDS: (() => CommandsModule) | undefined;

type CommandsModule = typeof import('./commands/index.js');

export async function commandsModule(): Promise<CommandsModule> {
  return typeof TOKENENV_LOAD_COMMANDS === 'function' ? TOKENENV_LOAD_COMMANDS() : await import('./commands/index.js');
}
