// The floor of a refresh, for bench/startup.ts: one client-credentials grant with node:http and
// the token written durably (fsync, rename), with none of tokenenv's checks, locks or stamps.
// TOKEN_ENDPOINT, CLIENT_ID, CLIENT_SECRET_FILE and TOKEN_FILE say where.
'use strict';
const { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } = require('node:fs');
const { request } = require('node:http');

const { TOKEN_ENDPOINT, CLIENT_ID, CLIENT_SECRET_FILE, TOKEN_FILE } = process.env;
const secret = readFileSync(CLIENT_SECRET_FILE, 'utf8').trim();
const body = 'grant_type=client_credentials&scope=storage.read%3A%2F';
const headers = {
  authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`,
  'content-type': 'application/x-www-form-urlencoded',
  'content-length': Buffer.byteLength(body),
};
request(TOKEN_ENDPOINT, { method: 'POST', headers }, (response) => {
  const chunks = [];
  response.on('data', (chunk) => chunks.push(chunk));
  response.on('end', () => {
    const token = JSON.parse(Buffer.concat(chunks).toString()).access_token;
    const temp = `${TOKEN_FILE}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, TOKEN_FILE);
  });
}).end(body);
