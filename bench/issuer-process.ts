// The demo issuer in a process of its own, so that the bench can time children with spawnSync
// (which blocks its own event loop) and so that the issuer's CPU is not the bench's. Started by
// bench/issuer.ts with fork(); answers { id, op: 'grants' } with the client-credentials grants
// it has answered so far.
import { startDemoIssuer } from '../lib/demo/issuer.js';

const [clientId, clientSecret, lifetime] = process.argv.slice(2);
const issuer = await startDemoIssuer({
  accessTokenLifetime: Number(lifetime),
  clients: [{ clientId: clientId!, clientSecret: clientSecret!, grantTypes: ['client_credentials'], scopes: ['storage.read:/', 'compute.read'] }],
});
process.on('message', (message: { id: number; op: string }) => {
  if (message.op === 'grants') process.send!({ id: message.id, grants: issuer.tokenRequests('client_credentials') });
});
process.on('disconnect', () => void issuer.close().then(() => process.exit(0)));
process.send!({ url: issuer.url, tokenEndpoint: issuer.tokenEndpoint });
