// What each client operation needs from a token: the one table that both the shell wrappers'
// per-call tokens (what is asked of the issuer) and `inspect --for … --op` (what a server would
// accept) read, so that the two cannot disagree. shell/tokenenv.sh carries a generated copy of
// the parts it needs (renderShellTable; test/token/operations.test.ts keeps the copy current).
//
// Scope paths are always `/`: a server reads them relative to its own base path (XRootD's
// `base_path`, dCache's root), which a client cannot know, so `/` is the only path that means the
// same everywhere.

/** What an operation needs. */
export interface OperationNeed {
  /** The scopes a wrapper asks the issuer for (space-separated). */
  request: string;
  /** What a server accepts: any one of these sets, each granted in full. */
  accepts: readonly (readonly string[])[];
  /** For people: the operation in a few words. */
  about: string;
}

const READ = 'storage.read:/';
const CREATE = 'storage.create:/';
const MODIFY = 'storage.modify:/';
/** HTCondor's WRITE authorization, as the OSG documentation asks for it. */
const HTCONDOR_WRITE = 'compute.create compute.modify compute.cancel';

const need = (request: string, accepts: string[][], about: string): OperationNeed => ({ request, accepts, about });

/** Operations on storage, by what is done to a path. */
export const DATA_OPERATIONS = {
  read: need(READ, [[READ]], 'read a file, its metadata or a directory listing'),
  list: need(READ, [[READ]], 'list a directory'),
  // A copy's destination without a stat first (gfal2, ARC, FTS): modify also covers overwriting.
  create: need(MODIFY, [[CREATE], [MODIFY]], 'write a new file'),
  // xrdcp stats the destination first and stops when refused; XRootD before 5.6.9 grants stat only
  // with storage.read, so an upload with create or modify alone fails there.
  write: need(`${READ} ${MODIFY}`, [[READ, CREATE], [READ, MODIFY]], 'upload a file the way xrdcp does (stat, then create)'),
  mkdir: need(MODIFY, [[CREATE], [MODIFY]], 'make a directory'),
  rename: need(MODIFY, [[CREATE], [MODIFY]], 'rename a file'),
  delete: need(MODIFY, [[MODIFY]], 'delete a file or directory'),
  modify: need(MODIFY, [[MODIFY]], 'change a file (overwrite, chmod, truncate)'),
  // An interactive xrdfs session may do anything.
  session: need(`${READ} ${MODIFY}`, [[READ, MODIFY]], 'an interactive session (read and change)'),
} as const satisfies Record<string, OperationNeed>;

export type DataOperation = keyof typeof DATA_OPERATIONS;

/** How a wrapped client is told apart: which arguments name endpoints, and how it gets its token. */
export type ClientKind = 'condor' | 'arc' | 'arcdata' | 'fts' | 'gfal' | 'xrd';

export interface ClientSpec {
  kind: ClientKind;
  /** The scope-bearing operation of every call; absent when it depends on the arguments. */
  operation?: DataOperation | 'client';
  /** A copy: URLs before the last argument are sources (read), the last one is this. */
  destination?: DataOperation;
}

const client = (kind: ClientKind, operation?: ClientSpec['operation'], destination?: DataOperation): ClientSpec =>
  ({ kind, ...(operation ? { operation } : {}), ...(destination ? { destination } : {}) });

/** Compute and FTS operations, by client: the client's own name is the operation. */
const CLIENT_NEEDS: Record<string, OperationNeed> = {};
const compute = (names: string[], request: string, scope: string, about: string): void => {
  for (const name of names) CLIENT_NEEDS[name] = need(request, [[scope]], about);
};
// HTCondor (and HTCondor-CE, whose clients take -pool/-name the same way). Reading commands need
// compute.read; changing ones are authorized at WRITE, asked for with all three WRITE scopes.
compute(['condor_q', 'condor_status', 'condor_history', 'condor_ping', 'condor_ce_q', 'condor_ce_status', 'condor_ce_ping', 'condor_ce_history'],
  'compute.read', 'compute.read', 'read jobs or the pool (HTCondor READ)');
compute(['condor_submit', 'condor_ce_submit', 'condor_ce_trace'], HTCONDOR_WRITE, 'compute.create', 'submit a job (HTCondor WRITE)');
compute(['condor_rm', 'condor_ce_rm'], HTCONDOR_WRITE, 'compute.cancel', 'remove a job (HTCondor WRITE)');
compute(['condor_hold', 'condor_release', 'condor_ce_hold', 'condor_ce_release'], HTCONDOR_WRITE, 'compute.modify', 'hold or release a job (HTCondor WRITE)');
// ARC, per command.
compute(['arcsub'], 'compute.create', 'compute.create', 'submit a job');
compute(['arcstat', 'arcinfo', 'arcget', 'arcsync'], 'compute.read', 'compute.read', 'read jobs or the CE');
compute(['arckill', 'arcclean'], 'compute.cancel', 'compute.cancel', 'cancel or clean a job');
compute(['arcrenew', 'arcresume'], 'compute.modify', 'compute.modify', 'renew or resume a job');
// FTS: the token for the FTS server itself (the storage endpoints get their own, see `destination`).
compute(['fts-rest-whoami', 'fts-rest-delegate', 'fts-rest-transfer-submit', 'fts-rest-transfer-status', 'fts-rest-transfer-cancel',
  'fts-rest-transfer-list', 'fts-rest-delete-submit', 'fts-rest-server-status', 'fts-rest-ban'], 'fts', 'fts', 'talk to the FTS server');

/** Every wrapped client. Data clients take their operations from their arguments' positions. */
export const CLIENTS: Record<string, ClientSpec> = {
  ...Object.fromEntries(Object.keys(CLIENT_NEEDS).map((name) => [name,
    client(name.startsWith('condor_') ? 'condor' : name.startsWith('fts-') ? 'fts' : 'arc', 'client', name === 'fts-rest-transfer-submit' ? 'create' : undefined)])),
  arcls: client('arcdata', 'read'), arccp: client('arcdata', undefined, 'create'), arcrm: client('arcdata', 'delete'),
  arcmkdir: client('arcdata', 'mkdir'), arcrename: client('arcdata', 'rename'),
  'gfal-ls': client('gfal', 'read'), 'gfal-cat': client('gfal', 'read'), 'gfal-stat': client('gfal', 'read'),
  'gfal-sum': client('gfal', 'read'), 'gfal-xattr': client('gfal', 'read'), 'gfal-copy': client('gfal', undefined, 'create'),
  'gfal-save': client('gfal', 'create'), 'gfal-rm': client('gfal', 'delete'), 'gfal-mkdir': client('gfal', 'mkdir'),
  'gfal-rename': client('gfal', 'rename'), 'gfal-chmod': client('gfal', 'modify'),
  xrdcp: client('xrd', undefined, 'write'), xrdfs: client('xrd'),
};

/** xrdfs HOST SUBCOMMAND: the operation of each subcommand (no subcommand: an interactive session). */
export const XRDFS_SUBCOMMANDS: Record<string, DataOperation> = {
  ls: 'list', stat: 'read', statvfs: 'read', cat: 'read', tail: 'read', locate: 'read', deeplocate: 'read', query: 'read',
  spaceinfo: 'read', xattr: 'read', cache: 'read', prepare: 'read',
  mkdir: 'mkdir', mv: 'rename', rm: 'delete', rmdir: 'delete', chmod: 'modify', truncate: 'modify',
};

/** Every operation by name: the data operations and the clients whose calls have one operation. */
export const OPERATIONS: Readonly<Record<string, OperationNeed>> = {
  ...DATA_OPERATIONS,
  ...CLIENT_NEEDS,
  ...Object.fromEntries(Object.entries(CLIENTS).flatMap(([name, spec]) =>
    spec.operation && spec.operation !== 'client' ? [[name, DATA_OPERATIONS[spec.operation]]] : [])),
};

/** The need of an operation name, or undefined when it is not one (it may then be a scope). */
export function operationNeed(operation: string): OperationNeed | undefined {
  return Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
}

/** Space-separated scopes, each once, in order of first appearance. */
export function joinScopes(scopes: Iterable<string>): string {
  return [...new Set([...scopes].flatMap((s) => s.split(/\s+/)).filter(Boolean))].join(' ');
}

/** What a call with these operations asks for: the union of their requests, in order. */
export function requestFor(operations: string[]): string {
  return joinScopes(operations.map((op) => operationNeed(op)?.request ?? op));
}

/** The scope each client operation asks for (the library's API since 0.1). */
export const OPERATION_SCOPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(OPERATIONS).map(([name, n]) => [name, n.request]));

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The part of this table that shell/tokenenv.sh needs, as the shell code it carries. */
export function renderShellTable(): string {
  const lines = [
    '# BEGIN operations table: generated from lib/token/operations.ts (node scripts/shell-table.mjs); do not edit',
    '# operation -> the scope a wrapper asks for; client -> its operation (copy: @DESTINATION-OPERATION)',
    '__tokenenv_scopes=()',
    '__tokenenv_ops=()',
  ];
  for (const [name, n] of Object.entries(OPERATIONS)) lines.push(`__tokenenv_scopes[${name}]=${shellQuote(n.request)}`);
  for (const [name, spec] of Object.entries(CLIENTS)) {
    const op = spec.operation === 'client' ? name : spec.operation;
    const value = [op ?? '', spec.destination ? `@${spec.destination}` : ''].join('');
    if (value) lines.push(`__tokenenv_ops[${name}]=${shellQuote(value)}`);
  }
  for (const [sub, op] of Object.entries(XRDFS_SUBCOMMANDS)) lines.push(`__tokenenv_ops[xrdfs:${sub}]=${shellQuote(op)}`);
  lines.push('# END operations table');
  return lines.join('\n') + '\n';
}

/**
 * The wrapped clients by kind, for the part of shell/tokenenv.sh that every new shell reads
 * (the operations table above is read only by the first wrapped call, to keep start-up short):
 * `__tokenenv_clients=( KIND: client… )`, one line per kind.
 */
export function renderShellClients(): string {
  const kinds: ClientKind[] = ['condor', 'arc', 'arcdata', 'fts', 'gfal', 'xrd'];
  return [
    '# BEGIN client table: generated from lib/token/operations.ts (node scripts/shell-table.mjs); do not edit',
    '__tokenenv_clients=(',
    ...kinds.map((kind) => `  ${kind}: ${Object.entries(CLIENTS).filter(([, s]) => s.kind === kind).map(([n]) => n).join(' ')}`),
    ')',
    '# END client table',
  ].join('\n') + '\n';
}
