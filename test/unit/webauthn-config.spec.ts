import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

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
    ['direct attestation (not implemented)', { ...ON, MFA_WEBAUTHN_ATTESTATION: 'direct' }, /not implemented yet/],
  ] as const) {
    it(`stops start-up with a ConfigError for ${name}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }
});
