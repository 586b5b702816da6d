import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createMfaClient, MfaAssertionError, type MfaClient as PublicClient, type VerifyMfaAssertionOptions } from '../../src/client/index.js';
import { codeAt, enrollUser, newUserId, useRealStores, type EnrolledUser } from '../support/e2e-fixture.js';
import { expectFailure } from '../support/grpc-client.js';
import { startTestService, type TestService } from '../support/test-service.js';

const ISSUER = 'https://mfa.test.internal';
const PAYMENT = Buffer.from('{"amount":"250.00","currency":"EUR","payee":"DE89370400440532013000"}');
const REQUEST = { audience: 'payments', purpose: 'payments.transfer', transaction: PAYMENT };
const EXPECTED: VerifyMfaAssertionOptions = { audience: 'payments', purpose: 'payments.transfer', transaction: PAYMENT };

describe('MFA assertions through the gRPC server on Redis and FerretDB/MongoDB (issue 25)', function () {
  this.timeout(60_000);
  const stores = useRealStores();
  let svc: TestService;
  let client: PublicClient;
  let user: EnrolledUser;
  const jwksUrl = () => `http://127.0.0.1:${svc.service.metricsPort}/.well-known/jwks.json`;

  before(async () => {
    svc = await startTestService({ ...stores.env, MFA_ASSERTION_ISSUER: ISSUER, METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
    stores.cleanups.push(() => svc.stop());
    client = createMfaClient({ address: `127.0.0.1:${svc.service.port}`, assertions: { issuer: ISSUER, now: () => svc.clock.now() } });
    stores.cleanups.push(async () => client.close());
    user = await enrollUser(svc.client, svc.clock);
  });

  /** A fresh TOTP assertion for `user`, the clock moved on one period after it. */
  async function totpAssertion(request: object = REQUEST): Promise<string> {
    const verified = await svc.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, svc.clock), mfaAssertionRequest: request as typeof REQUEST });
    svc.clock.advance(30_000);
    return verified.mfaAssertion;
  }

  describe('after each kind of check', () => {
    it('VerifyTotp returns an assertion that verifyMfaAssertion accepts, and jose accepts against the HTTP JWKS', async () => {
      const before = svc.clock.now();
      const verified = await svc.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, svc.clock), mfaAssertionRequest: REQUEST });
      const after = svc.clock.now();
      svc.clock.advance(30_000);
      // exp is iat + 300 s, iat in whole seconds taken during the call (the clock runs in real time too).
      const issuedAtLeast = Math.floor(before.getTime() / 1000) * 1000;
      expect(verified.mfaAssertionExpiresAt!.getTime()).to.be.within(issuedAtLeast + 300_000, after.getTime() + 300_000);
      const claims = await client.verifyMfaAssertion(verified.mfaAssertion, EXPECTED);
      expect(claims).to.deep.include({ iss: ISSUER, sub: user.userId, aud: 'payments', amr: ['otp'], mfa_method: 'totp', authenticator_id: user.authenticatorId, purpose: 'payments.transfer' });
      expect(claims).to.not.have.any.keys('acr', 'uv');
      expect(claims.exp - claims.iat).to.equal(300);
      expect(claims.auth_time).to.equal(claims.iat);

      const response = await fetch(jwksUrl());
      expect(response.headers.get('content-type')).to.equal('application/jwk-set+json');
      expect(response.headers.get('cache-control')).to.match(/^public, max-age=\d+$/);
      const { payload, protectedHeader } = await jwtVerify(verified.mfaAssertion, createRemoteJWKSet(new URL(jwksUrl())), {
        issuer: ISSUER,
        audience: 'payments',
        algorithms: ['ES256'],
        currentDate: svc.clock.now(),
      });
      expect(protectedHeader).to.include({ alg: 'ES256', typ: 'mfa-assertion+jwt' });
      expect(payload.jti).to.equal(claims.jti);
      // No secret, code or device token in it.
      const text = Buffer.from(verified.mfaAssertion.split('.')[1]!, 'base64url').toString();
      expect(text).to.not.contain(user.secret);
    });

    it('VerifyRecoveryCode returns one with mfa_method recovery_code and no authenticator_id', async () => {
      const verified = await svc.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0], mfaAssertionRequest: REQUEST });
      const claims = await client.verifyMfaAssertion(verified.mfaAssertion, EXPECTED);
      expect(claims).to.deep.include({ amr: ['otp'], mfa_method: 'recovery_code', sub: user.userId });
      expect(claims).to.not.have.property('authenticator_id');
      const jwks = (await (await fetch(jwksUrl())).json()) as { keys: object[] };
      await jwtVerify(verified.mfaAssertion, createLocalJWKSet(jwks as never), { issuer: ISSUER, audience: 'payments', currentDate: svc.clock.now() });
    });

    it('names the jti in the log line of the RPC', async () => {
      const token = await totpAssertion();
      const { jti } = await client.verifyMfaAssertion(token, EXPECTED);
      const line = svc.logs.find((l) => l.includes('"method":"VerifyTotp"') && l.includes(`"assertionJti":"${jti}"`));
      expect(line, 'the rpc log line with the jti').to.be.a('string');
      expect(line).to.not.contain(token);
    });

    it('GetMfaAssertionKeys answers the same JWK Set as the HTTP endpoint', async () => {
      const { jwksJson } = await svc.client.getMfaAssertionKeys({});
      const http = await (await fetch(jwksUrl())).text();
      expect(JSON.parse(jwksJson)).to.deep.equal(JSON.parse(http));
      const keys = (JSON.parse(jwksJson) as { keys: Array<Record<string, string>> }).keys;
      expect(keys).to.have.length(2);
      for (const key of keys) expect(key).to.have.all.keys('kty', 'crv', 'x', 'y', 'kid', 'alg', 'use');
    });
  });

  describe('refused by the verifier', () => {
    let token: string;
    before(async () => {
      token = await totpAssertion();
    });
    const refusal = async (check: Promise<unknown>) => {
      const error = await check.then(() => null, (e: unknown) => e);
      expect(error, 'the verifier accepted it').to.be.instanceOf(MfaAssertionError);
      return (error as MfaAssertionError).problem;
    };

    it('a wrong audience', async () => {
      expect(await refusal(client.verifyMfaAssertion(token, { ...EXPECTED, audience: 'accounts' }))).to.equal('WRONG_AUDIENCE');
    });

    it('a wrong purpose', async () => {
      expect(await refusal(client.verifyMfaAssertion(token, { ...EXPECTED, purpose: 'accounts.email_change' }))).to.equal('WRONG_PURPOSE');
    });

    it('a transaction changed by one byte', async () => {
      const changed = Buffer.from(PAYMENT);
      changed[12] = changed[12]! ^ 1;
      expect(await refusal(client.verifyMfaAssertion(token, { ...EXPECTED, transaction: changed }))).to.equal('WRONG_TRANSACTION');
      expect(await refusal(client.verifyMfaAssertion(token, { audience: 'payments', purpose: 'payments.transfer' }))).to.equal('WRONG_TRANSACTION');
    });

    it('an expired token', async () => {
      const late = createMfaClient({ address: `127.0.0.1:${svc.service.port}`, assertions: { issuer: ISSUER, now: () => new Date(svc.clock.now().getTime() + 301_000) } });
      try {
        expect(await refusal(late.verifyMfaAssertion(token, EXPECTED))).to.equal('EXPIRED');
      } finally {
        late.close();
      }
    });

    it('a tampered payload', async () => {
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
      expect(await refusal(client.verifyMfaAssertion(`${header}.${forged}.${signature}`, EXPECTED))).to.equal('INVALID');
    });

    it('a token signed by a key that is not in the set, even under a published kid', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const claims = await client.verifyMfaAssertion(token, EXPECTED);
      const forge = (kid: string) => new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid, typ: 'mfa-assertion+jwt' }).sign(privateKey);
      expect(await refusal(client.verifyMfaAssertion(await forge(decodeProtectedHeader(token).kid!), EXPECTED)), 'a published kid').to.equal('INVALID');
      expect(await refusal(client.verifyMfaAssertion(await forge('mfa-unknown-0'), EXPECTED)), 'an unknown kid').to.equal('UNKNOWN_KEY');
    });
  });

  describe('a refused or failed request', () => {
    it('is refused before any code is checked or counted: an invalid request, and assertions not configured', async () => {
      const off = await startTestService({ ...stores.env });
      try {
        const fresh = await enrollUser(svc.client, svc.clock);
        const code = codeAt(fresh.secret, svc.clock);
        const wrong = codeAt(fresh.secret, svc.clock, -10);
        const badRequest = { audience: '', purpose: 'Payments!', transaction: Buffer.alloc(4097) };
        // A wrong code in a refused request counts no failure; a right one is not spent.
        await expectFailure(svc.client.verifyTotp({ userId: fresh.userId, code: wrong, mfaAssertionRequest: badRequest }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
        await expectFailure(off.client.verifyTotp({ userId: fresh.userId, code: wrong, mfaAssertionRequest: REQUEST }), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
        await expectFailure(off.client.verifyRecoveryCode({ userId: fresh.userId, recoveryCode: 'AAAAA-AAAAA', mfaAssertionRequest: REQUEST }), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
        const invalid = await expectFailure(
          svc.client.verifyTotp({ userId: fresh.userId, code, mfaAssertionRequest: badRequest }),
          status.INVALID_ARGUMENT,
          'INVALID_REQUEST',
        );
        expect(invalid.badFields).to.have.members(['mfa_assertion_request.audience', 'mfa_assertion_request.purpose', 'mfa_assertion_request.transaction']);
        await expectFailure(off.client.verifyTotp({ userId: fresh.userId, code, mfaAssertionRequest: REQUEST }), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
        await expectFailure(off.client.verifyRecoveryCode({ userId: fresh.userId, recoveryCode: fresh.recoveryCodes[0], mfaAssertionRequest: REQUEST }), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
        await expectFailure(off.client.getMfaAssertionKeys({}), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
        // Nothing counted, nothing spent: the same code and recovery code still pass.
        expect(await stores.redis.exists(stores.key(fresh.userId, 'failures'))).to.equal(0);
        // (Where a checked wrong code would have counted.)
        await expectFailure(svc.client.verifyTotp({ userId: fresh.userId, code: wrong }), status.PERMISSION_DENIED, 'INVALID_CODE');
        expect(await stores.redis.get(stores.key(fresh.userId, 'failures'))).to.equal('1');
        expect((await svc.client.verifyTotp({ userId: fresh.userId, code, mfaAssertionRequest: REQUEST })).mfaAssertion).to.not.equal('');
        expect((await svc.client.getMfaStatus({ userId: fresh.userId })).recoveryCodesRemaining).to.equal(10);
      } finally {
        await off.stop();
      }
    });

    it('issues nothing when the check fails', async () => {
      const failure = await expectFailure(
        svc.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, svc.clock, -5), mfaAssertionRequest: REQUEST }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
      expect(failure.message).to.not.match(/eyJ/);
      expect(svc.logs.filter((l) => l.includes('"reason":"INVALID_CODE"') && l.includes('assertionJti'))).to.deep.equal([]);
      const other = newUserId();
      await expectFailure(svc.client.verifyTotp({ userId: other, code: '123456', mfaAssertionRequest: REQUEST }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');
    });
  });

  describe('RedeemMfaAssertion', () => {
    it('refuses a tampered one, another audience\'s, and garbage with INVALID_ARGUMENT on mfa_assertion', async () => {
      const token = await totpAssertion();
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.${signature}`;
      for (const [mfaAssertion, audience] of [[forged, 'payments'], [token, 'accounts'], ['not-a-jws', 'payments']] as const) {
        const failure = await expectFailure(svc.client.redeemMfaAssertion({ mfaAssertion, audience, redemptionId: 'r1' }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
        expect(failure.badFields).to.deep.equal(['mfa_assertion']);
      }
      // None of them burnt it.
      expect((await svc.client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: 'r1' })).userId).to.equal(user.userId);
    });

    it('refuses an expired one', async () => {
      const token = await totpAssertion();
      svc.clock.advance(301_000);
      const failure = await expectFailure(svc.client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: 'r1' }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect(failure.badFields).to.deep.equal(['mfa_assertion']);
    });

    it('refuses one issued before RevokeSessions with ASSERTION_REVOKED', async () => {
      const token = await totpAssertion();
      svc.clock.advance(1000);
      await svc.client.revokeSessions({ userId: user.userId });
      svc.clock.advance(1000);
      await expectFailure(svc.client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: 'r1' }), status.FAILED_PRECONDITION, 'ASSERTION_REVOKED');
      // One issued after it redeems.
      const after = await totpAssertion();
      const redeemed = await svc.client.redeemMfaAssertion({ mfaAssertion: after, audience: 'payments', redemptionId: 'r2' });
      expect(svc.logs.some((l) => l.includes('"method":"RedeemMfaAssertion"') && l.includes(`"assertionJti":"${redeemed.assertionId}"`))).to.equal(true);
    });
  });
});
