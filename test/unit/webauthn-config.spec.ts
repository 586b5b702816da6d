import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';
import { AttestationCa } from '../support/attestation-ca.js';

const ON = { MFA_WEBAUTHN_RP_ID: 'example.com', MFA_WEBAUTHN_ORIGINS: 'https://app.example.com, https://admin.example.com' };

describe('loadConfig: security keys (MFA_WEBAUTHN_*)', () => {
  it('leaves security keys off when neither MFA_WEBAUTHN_RP_ID nor MFA_WEBAUTHN_ORIGINS is set', () => {
    expect(loadConfig({}).webauthn).to.equal(null);
  });

  it('turns them on with both, with the documented defaults', () => {
    expect(loadConfig({ ...ON, MFA_ISSUER: 'Example' }).webauthn).to.deep.equal({
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://app.example.com', 'https://admin.example.com'],
      userVerification: 'preferred',
      residentKey: 'discouraged',
      challengeMs: 120_000,
      attestation: 'none',
      attestationRoots: [],
    });
  });

  it('reads the optional settings', () => {
    const settings = loadConfig({
      ...ON,
      MFA_WEBAUTHN_RP_NAME: 'Site',
      MFA_WEBAUTHN_USER_VERIFICATION: 'required',
      MFA_WEBAUTHN_RESIDENT_KEY: 'preferred',
      MFA_WEBAUTHN_CHALLENGE_SECONDS: '300',
    }).webauthn;
    expect(settings).to.deep.include({ rpName: 'Site', userVerification: 'required', residentKey: 'preferred', challengeMs: 300_000 });
  });

  for (const [name, env, message] of [
    ['only one of the two', { MFA_WEBAUTHN_RP_ID: 'example.com' }, /set both MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS/],
    ['an origin with a path', { ...ON, MFA_WEBAUTHN_ORIGINS: 'https://app.example.com/login' }, /MFA_WEBAUTHN_ORIGINS must list origins/],
    ['an RP ID that is a URL', { ...ON, MFA_WEBAUTHN_RP_ID: 'https://example.com' }, /MFA_WEBAUTHN_RP_ID must be a domain/],
    ['an unknown user verification', { ...ON, MFA_WEBAUTHN_USER_VERIFICATION: 'always' }, /MFA_WEBAUTHN_USER_VERIFICATION must be one of preferred, required, discouraged/],
    ['a challenge time out of range', { ...ON, MFA_WEBAUTHN_CHALLENGE_SECONDS: '10' }, /MFA_WEBAUTHN_CHALLENGE_SECONDS must be a whole number from 30 to 600/],
    ['direct attestation without roots', { ...ON, MFA_WEBAUTHN_ATTESTATION: 'direct' }, /^MFA_WEBAUTHN_ATTESTATION=direct needs MFA_WEBAUTHN_ATTESTATION_ROOTS/],
    ['roots without direct attestation', { ...ON, MFA_WEBAUTHN_ATTESTATION_ROOTS: '/etc/roots.pem' }, /^MFA_WEBAUTHN_ATTESTATION_ROOTS is used only with MFA_WEBAUTHN_ATTESTATION=direct/],
    ['a roots file that is missing', { ...ON, MFA_WEBAUTHN_ATTESTATION: 'direct', MFA_WEBAUTHN_ATTESTATION_ROOTS: '/nonexistent/roots.pem' }, /^MFA_WEBAUTHN_ATTESTATION_ROOTS: cannot read \/nonexistent\/roots.pem: ENOENT/],
  ] as const) {
    it(`stops start-up with a ConfigError for ${name}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  describe('MFA_WEBAUTHN_ATTESTATION=direct with MFA_WEBAUTHN_ATTESTATION_ROOTS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfa-roots-unit-'));
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const direct = (path: string) => ({ ...ON, MFA_WEBAUTHN_ATTESTATION: 'direct', MFA_WEBAUTHN_ATTESTATION_ROOTS: path });
    let first: AttestationCa;
    let second: AttestationCa;
    after(() => rmSync(dir, { recursive: true, force: true }));
    before(async () => {
      [first, second] = await Promise.all([AttestationCa.create(), AttestationCa.create('Second Root')]);
    });

    it('reads every PEM certificate of the file', () => {
      const settings = loadConfig(direct(file('two.pem', `# our keys\n${first.pem}\n${second.pem}\n`))).webauthn;
      expect(settings).to.deep.include({ attestation: 'direct' });
      expect(settings!.attestationRoots.map((pem) => pem.replace(/\s/g, ''))).to.deep.equal([first.pem, second.pem].map((pem) => pem.replace(/\s/g, '')));
    });

    it('stops start-up with one line naming the setting for a file without a certificate, an unparsable one, or a root that names a CRL', async () => {
      const crlRoot = await first.issue({ crlUrl: 'http://crl.example.com/root.crl' });
      const crlPem = `-----BEGIN CERTIFICATE-----\n${crlRoot.chain[0]!.toString('base64')}\n-----END CERTIFICATE-----\n`;
      for (const [text, message] of [
        ['', /^MFA_WEBAUTHN_ATTESTATION_ROOTS: .*empty.pem: no PEM certificate/],
        ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /^MFA_WEBAUTHN_ATTESTATION_ROOTS: .*: certificate 1 does not parse$/],
        [`${first.pem}\n${crlPem}`, /^MFA_WEBAUTHN_ATTESTATION_ROOTS: .*: certificate 2 \(.*\) names a CRL distribution point/],
      ] as const) {
        const path = file(text === '' ? 'empty.pem' : `bad-${message.source.length}.pem`, text);
        expect(() => loadConfig(direct(path))).to.throw(ConfigError, message);
        try {
          loadConfig(direct(path));
        } catch (error) {
          expect((error as Error).message).to.not.contain('\n');
        }
      }
    });
  });
});
