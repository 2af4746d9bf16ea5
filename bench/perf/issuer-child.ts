// The demo issuer (lib/demo/issuer.ts) in a process of its own, for bench/perf-goals: the bench
// times children with spawnSync, which blocks its own event loop, and the issuer's CPU must not
// count as the watcher's. Answers { id } messages with the client-credentials grants so far.
import { startDemoIssuer } from '../../lib/demo/issuer.js';

const [clientId, clientSecret, lifetime] = process.argv.slice(2);
const issuer = await startDemoIssuer({
  accessTokenLifetime: Number(lifetime),
  clients: [{ clientId: clientId!, clientSecret: clientSecret!, grantTypes: ['client_credentials'], scopes: ['storage.read:/'] }],
});
process.on('message', (message: { id: number }) => process.send!({ id: message.id, grants: issuer.tokenRequests('client_credentials') }));
process.on('disconnect', () => void issuer.close().then(() => process.exit(0)));
process.send!({ url: issuer.url, tokenEndpoint: issuer.tokenEndpoint });
