import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createMfaAssertionVerifier } from '../../src/client/mfa-assertion-verifier.js';

const ISSUER = 'https://mfa.test';
const EXPECTED = { audience: 'payments', purpose: 'payments.transfer' };

/** A signing key as the service publishes it, and a token it signed. */
async function signingKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { jwk, sign: (claims: Record<string, unknown> = {}) => signed(privateKey, kid, claims) };
}

function signed(key: CryptoKey, kid: string, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: 'j', auth_time: now, purpose: 'payments.transfer', amr: ['otp'], mfa_method: 'totp', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'mfa-assertion+jwt' })
    .setIssuer(ISSUER)
    .setAudience('payments')
    .setSubject('alice')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(key);
}

describe('createMfaAssertionVerifier: its key cache and its JWKS URL (issue 25)', () => {
  it('uses the fetched keys while fresh, and fetches again for an unknown kid (a rotation)', async () => {
    const [k0, k1] = [await signingKey('k0'), await signingKey('k1')];
    let published = [k0.jwk];
    let fetches = 0;
    const verifier = createMfaAssertionVerifier({ issuer: ISSUER, cooldownMs: 0, fetchKeys: async () => (fetches++, JSON.stringify({ keys: published })) });
    await verifier.verify(await k0.sign(), EXPECTED);
    await verifier.verify(await k0.sign(), EXPECTED);
    expect(fetches, 'cached').to.equal(1);
    published = [k0.jwk, k1.jwk];
    expect((await verifier.verify(await k1.sign(), EXPECTED)).sub).to.equal('alice');
    expect(fetches, 'fetched again for k1').to.equal(2);
  });

  it('does not fetch again for an unknown kid within the cooldown', async () => {
    const [k0, stranger] = [await signingKey('k0'), await signingKey('stranger')];
    let fetches = 0;
    const verifier = createMfaAssertionVerifier({ issuer: ISSUER, fetchKeys: async () => (fetches++, JSON.stringify({ keys: [k0.jwk] })) });
    await verifier.verify(await k0.sign(), EXPECTED);
    const refused = await verifier.verify(await stranger.sign(), EXPECTED).then(() => null, (e: { problem?: string }) => e.problem);
    expect(refused).to.equal('UNKNOWN_KEY');
    expect(fetches).to.equal(1);
  });

  it('treats an empty transaction as none', async () => {
    const k0 = await signingKey('k0');
    const verifier = createMfaAssertionVerifier({ issuer: ISSUER, fetchKeys: async () => JSON.stringify({ keys: [k0.jwk] }) });
    expect((await verifier.verify(await k0.sign(), { ...EXPECTED, transaction: '' })).sub).to.equal('alice');
    expect((await verifier.verify(await k0.sign(), { ...EXPECTED, transaction: new Uint8Array(0) })).sub).to.equal('alice');
  });

  describe('with jwksUrl', () => {
    let server: Server;
    let requests = 0;
    let body = '';
    before(async () => {
      server = createServer((_request, response) => {
        requests++;
        response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetches the set from the URL, and again for an unknown kid', async () => {
      const [k0, k1] = [await signingKey('k0'), await signingKey('k1')];
      body = JSON.stringify({ keys: [k0.jwk] });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
      const verifier = createMfaAssertionVerifier({ issuer: ISSUER, jwksUrl: url, cooldownMs: 0 });
      expect((await verifier.verify(await k0.sign(), EXPECTED)).sub).to.equal('alice');
      body = JSON.stringify({ keys: [k0.jwk, k1.jwk] });
      expect((await verifier.verify(await k1.sign(), EXPECTED)).sub).to.equal('alice');
      expect(requests).to.equal(2);
    });
  });
});
