// node:os as env-paths uses it: homedir() and tmpdir(), each called once as env-paths loads.
// Loading node:os costs every command that reads a config 0.2 ms; both values come from the
// environment first, as node:os takes them, and only a missing HOME (the passwd entry) needs it.
// (env-paths's temp directory, from tmpdir(), is never used.)
export default {
  homedir: () => process.env.HOME || process.getBuiltinModule('node:os').homedir(),
  tmpdir: () => {
    const dir = process.env.TMPDIR || process.env.TMP || process.env.TEMP || '/tmp';
    return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
  },
};
