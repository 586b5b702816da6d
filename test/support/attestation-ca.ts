import { webcrypto, KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { AttestationCertificate } from './soft-authenticator.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/**
 * A test attestation CA (a self-signed P-256 root) made with @peculiar/x509,
 * the X.509 library @simplewebauthn/server itself uses, that issues
 * attestation certificates in the form WebAuthn §8.2.1 asks of a `packed`
 * full attestation (OU "Authenticator Attestation", not a CA).
 */
export class AttestationCa {
  private constructor(
    readonly root: x509.X509Certificate,
    private readonly keys: webcrypto.CryptoKeyPair,
  ) {}

  static async create(name = 'Test Attestation Root'): Promise<AttestationCa> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=${name}, O=Test Keys, C=DE`,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      keys: keys as CryptoKeyPair,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
      ],
    });
    return new AttestationCa(root, keys);
  }

  /** The root as PEM, for MFA_WEBAUTHN_ATTESTATION_ROOTS. */
  get pem(): string {
    return this.root.toString('pem');
  }

  /** An attestation certificate and its key; `crlUrl` adds a CRL distribution point. */
  async issue(options: { readonly crlUrl?: string } = {}): Promise<AttestationCertificate> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey as CryptoKey),
    ];
    if (options.crlUrl !== undefined) extensions.push(new x509.CRLDistributionPointsExtension([options.crlUrl]));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((hex, b) => hex + (b & 0x7f).toString(16).padStart(2, '0'), ''),
      subject: 'C=DE, O=Test Keys, OU=Authenticator Attestation, CN=Test Key',
      issuer: this.root.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      publicKey: keys.publicKey as CryptoKey,
      signingKey: this.keys.privateKey as CryptoKey,
      signingAlgorithm: ALGORITHM,
      extensions,
    });
    return { chain: [Buffer.from(leaf.rawData)], privateKey: KeyObject.from(keys.privateKey) };
  }
}
