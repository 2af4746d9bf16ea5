// A throwaway test CA with openssl: a server certificate for loopback (HTTPS issuers, test
// endpoints) and an X.509 user certificate (the ARC client insists on one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** CA certificate (PEM). */
  caCert: string;
  /** Directory with the CA certificate and its OpenSSL hash link, for X509_CERT_DIR. */
  caDir: string;
  serverCert: string;
  serverKey: string;
  userCert: string;
  userKey: string;
}

function openssl(cwd: string, ...args: string[]): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

/** Creates the CA, a server certificate for 127.0.0.1/localhost and a user certificate in `dir`. */
export function createTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/DC=test/DC=tokenenv/CN=tokenenv test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  issue(dir, 'server', '/DC=test/DC=tokenenv/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  issue(dir, 'user', '/DC=test/DC=tokenenv/CN=tokenenv test user',
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  const caDir = join(dir, 'certificates');
  mkdirSync(caDir, { recursive: true });
  const hash = openssl(dir, 'x509', '-hash', '-noout', '-in', 'ca.pem').trim();
  execFileSync('cp', [join(dir, 'ca.pem'), join(caDir, `${hash}.0`)]);
  execFileSync('chmod', ['0400', join(dir, 'user.key'), join(dir, 'server.key')]);
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caDir,
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    userCert: join(dir, 'user.pem'),
    userKey: join(dir, 'user.key'),
  };
}
