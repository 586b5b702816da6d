import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../dev/child-process.js';

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, as files and contents. */
export interface TestCerts {
  readonly dir: string;
  readonly caCert: Buffer;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly caCertPath: string;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

/** Generates the certificates with the openssl CLI (Debian: apt-get install openssl). */
export function generateTestCerts(): TestCerts {
  if (findOnPath('openssl') === undefined) throw new Error('openssl not found on PATH: apt-get install openssl');
  const dir = mkdtempSync(join(tmpdir(), 'mfa-certs-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mfa test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  issue('server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', '/CN=login-service', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: readFileSync(file('ca.crt')),
    caCertPath: file('ca.crt'),
    serverCertPath: file('server.crt'),
    serverKeyPath: file('server.key'),
    clientCert: readFileSync(file('client.crt')),
    clientKey: readFileSync(file('client.key')),
  };
}
