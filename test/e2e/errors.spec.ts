import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../dev/redis-server.js';
import { QrFormat } from '../../src/gen/mfa/v1/mfa.js';
import { codeAt, enrollUser, newUserId, useMemoryService, useRealStores, useService } from '../support/e2e-fixture.js';
import { expectFailure, type MfaClient } from '../support/grpc-client.js';
import { eventually } from '../support/eventually.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { startTestService } from '../support/test-service.js';

// On the embedded stores: bad input is refused before any store is asked.
describe('Errors: bad input (gRPC, in-memory stores)', () => {
  const svc = useMemoryService();

  describe('bad input', () => {
    const long = (n: number) => 'x'.repeat(n);
    const cases: Array<[string, (c: MfaClient) => Promise<unknown>, string[]]> = [
      ['an empty user_id', (c) => c.getMfaStatus({ userId: '' }), ['user_id']],
      ['a 129-character user_id', (c) => c.getMfaStatus({ userId: long(129) }), ['user_id']],
      ['a user_id with a control character', (c) => c.revokeSessions({ userId: 'alice\u0000' }), ['user_id']],
      ['a 5,000-character account_name', (c) => c.beginTotpEnrollment({ userId: 'a', accountName: long(5000) }), ['account_name']],
      ['an issuer with ":"', (c) => c.beginTotpEnrollment({ userId: 'a', issuer: 'Acme:Evil' }), ['issuer']],
      ['a 65-character issuer', (c) => c.beginTotpEnrollment({ userId: 'a', issuer: long(65) }), ['issuer']],
      ['a 5-digit code', (c) => c.verifyTotp({ userId: 'a', code: '12345' }), ['code']],
      ['a code with letters', (c) => c.confirmTotpEnrollment({ userId: 'a', enrollmentId: 'enr_x', code: '12345a' }), ['code']],
      ['non-ASCII digits', (c) => c.verifyTotp({ userId: 'a', code: '١٢٣٤٥٦' }), ['code']],
      ['a 129-character device_label', (c) => c.verifyTotp({ userId: 'a', code: '123456', deviceLabel: long(129) }), ['device_label']],
      ['a malformed recovery code', (c) => c.verifyRecoveryCode({ userId: 'a', recoveryCode: 'nope' }), ['recovery_code']],
      ['an empty recovery code (one violation, not two)', (c) => c.verifyRecoveryCode({ userId: 'a', recoveryCode: '' }), ['recovery_code']],
      ['a DisableMfa code that is neither', (c) => c.disableMfa({ userId: 'a', code: '1234567' }), ['code']],
      ['a 5,000-character device_token', (c) => c.checkRememberedDevice({ userId: 'a', deviceToken: long(5000) }), ['device_token']],
      ['an empty enrollment_id', (c) => c.cancelTotpEnrollment({ userId: 'a', enrollmentId: '' }), ['enrollment_id']],
      ['an empty device_id', (c) => c.forgetRememberedDevice({ userId: 'a', deviceId: '' }), ['device_id']],
      ['a device_id that is a field path', (c) => c.forgetRememberedDevice({ userId: 'a', deviceId: 'dev_aaaaaaaaaaaaaaaa.expiresAt' }), ['device_id']],
      ['an account_name too long for a QR code once URL-encoded', (c) => c.beginTotpEnrollment({ userId: 'a', accountName: '😀'.repeat(200) }), ['account_name', 'issuer']],
      ['qr_formats with QR_FORMAT_UNSPECIFIED', (c) => c.beginTotpEnrollment({ userId: 'a', qrFormats: [QrFormat.QR_FORMAT_PNG, QrFormat.QR_FORMAT_UNSPECIFIED] }), ['qr_formats']],
      ['qr_formats with a value the proto does not define', (c) => c.beginTotpEnrollment({ userId: 'a', qrFormats: [7 as QrFormat] }), ['qr_formats']],
      ['a missing session_issued_at', (c) => c.checkSession({ userId: 'a' }), ['session_issued_at']],
      ['several bad fields at once', (c) => c.verifyTotp({ userId: '', code: 'x' }), ['user_id', 'code']],
      ['a 65-character authenticator_label', (c) => c.beginTotpEnrollment({ userId: 'a', authenticatorLabel: long(65) }), ['authenticator_label']],
      ['an authenticator_label of only spaces', (c) => c.beginTotpEnrollment({ userId: 'a', authenticatorLabel: '   ' }), ['authenticator_label']],
      ['a malformed existing_code', (c) => c.confirmTotpEnrollment({ userId: 'a', enrollmentId: 'enr_x', code: '123456', existingCode: '12' }), ['existing_code']],
      ['an authenticator_id that is a field path', (c) => c.renameAuthenticator({ userId: 'a', authenticatorId: 'aut_aaaaaaaaaaaaaaaa.label', label: 'x' }), ['authenticator_id']],
      ['an empty label', (c) => c.renameAuthenticator({ userId: 'a', authenticatorId: 'aut_aaaaaaaaaaaaaaaa', label: '' }), ['label']],
      ['a RemoveAuthenticator code that is neither', (c) => c.removeAuthenticator({ userId: 'a', authenticatorId: 'aut_aaaaaaaaaaaaaaaa', code: '1' }), ['code']],
    ];
    for (const [what, call, fields] of cases) {
      it(`fails INVALID_ARGUMENT with reason INVALID_REQUEST and a BadRequest naming ${fields.join(', ')} for ${what}`, async () => {
        const failure = await expectFailure(call(svc.current.client), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
        expect(failure.badFields).to.deep.equal(fields);
        for (const field of fields) expect(failure.message).to.contain(field);
      });
    }
  });
});

describe('Errors (gRPC, real Redis and MongoDB)', () => {
  // Servers of its own: it stops and restarts Redis and the MongoDB-compatible server.
  const stores = useRealStores({ private: true });
  const svc = useService(stores);

  describe('when a stored secret no longer opens (the key was removed from MFA_ENCRYPTION_KEYS)', () => {
    it('fails INTERNAL with reason INTERNAL and a fixed message; the cause goes to the log only', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const otherKeys = await startTestService({ ...stores.env, MFA_ENCRYPTION_KEYS: `other:${randomBytes(32).toString('base64')}` });
      try {
        const failure = await expectFailure(
          otherKeys.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) }),
          status.INTERNAL,
          'INTERNAL',
        );
        expect(failure.message).to.equal('internal error');
        const logged = otherKeys.logs.join('');
        expect(logged).to.contain('no longer has');
        expect(logged).to.contain('"grpcCode":"INTERNAL"');
      } finally {
        await otherKeys.stop();
      }
    });
  });

  describe('when Redis is down', () => {
    it('fails UNAVAILABLE with reason STORE_UNAVAILABLE without crashing, and serves again once Redis is back', async function () {
      this.timeout(60_000);
      const { client } = svc.current;
      const userId = newUserId();
      await stores.redisServer.stop();
      try {
        // UNAVAILABLE, not the client's DEADLINE_EXCEEDED after 15 s: the service gives up by itself.
        const failure = await expectFailure(client.beginTotpEnrollment({ userId }), status.UNAVAILABLE, 'STORE_UNAVAILABLE');
        expect(failure.message).to.equal('store unavailable; retry later');
      } finally {
        await stores.redisServer.restart();
      }
      // ioredis reconnects by itself; allow it a few seconds.
      await eventually(() => client.beginTotpEnrollment({ userId }), 15_000);
    });
  });

  describe('when Redis is out of memory (maxmemory 2mb, noeviction)', () => {
    it('fails UNAVAILABLE with reason STORE_UNAVAILABLE, not INTERNAL, and logs neither the sealed secret nor the command', async function () {
      this.timeout(60_000);
      const full = await startRedisServer({ extraArgs: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
      stores.cleanups.push(() => full.stop());
      const service = await startTestService({ ...stores.env, REDIS_URL: full.url });
      stores.cleanups.push(() => service.stop());
      // Big values first, then small ones, until a write is refused; then the limit goes a little
      // below what is used, so that Redis stays full when client buffers shrink.
      const filler = new Redis(full.url);
      let n = 0;
      for (const size of [50_000, 1_000]) {
        try {
          for (;;) await filler.set(`fill:${(n += 1)}`, 'x'.repeat(size));
        } catch (error) {
          expect((error as Error).message).to.match(/^OOM/);
        }
      }
      const used = Number(/used_memory:(\d+)/.exec(await filler.info('memory'))![1]);
      await filler.config('SET', 'maxmemory', String(Math.floor(used * 0.9)));
      filler.disconnect();

      for (let i = 0; i < 5; i += 1) {
        const failure = await expectFailure(service.client.beginTotpEnrollment({ userId: newUserId('oom') }), status.UNAVAILABLE, 'STORE_UNAVAILABLE');
        expect(failure.message).to.equal('store unavailable; retry later');
      }
      const rpcLines = service.logs.filter((line) => line.includes('"method":"BeginTotpEnrollment"'));
      expect(rpcLines).to.have.length(5);
      // The store and its reply are for the operator: in the log, not on the wire.
      for (const line of rpcLines) expect(line).to.contain('"grpcCode":"UNAVAILABLE"').and.contain('Redis is unavailable: OOM command not allowed');
      const logged = service.logs.join('');
      expect(logged).to.not.match(/v1\.test1\./, 'a sealed secret in the log');
      expect(logged).to.not.contain('"args"');
      expect(logged).to.not.contain(':enrollment');
    });
  });

  describe('when MongoDB is down', () => {
    it('fails UNAVAILABLE with reason STORE_UNAVAILABLE without crashing, and serves again once it is back', async function () {
      this.timeout(90_000);
      // A server this run started is stopped for real; an external MONGO_URL is cut off through a proxy.
      const external = stores.mongoServer.kind === 'external';
      const target = new URL(stores.mongoServer.url);
      const proxy = external ? await startTcpProxy(target.hostname, Number(target.port || 27017)) : null;
      const service = proxy ? await startTestService({ ...stores.env, MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` }) : svc.current;
      const userId = newUserId();
      try {
        await service.client.getMfaStatus({ userId });
        await (proxy ? proxy.cut() : stores.mongoServer.stop());
        try {
          // UNAVAILABLE, not the client's DEADLINE_EXCEEDED after 15 s: the service gives up by itself.
          const failure = await expectFailure(service.client.getMfaStatus({ userId }), status.UNAVAILABLE, 'STORE_UNAVAILABLE');
          expect(failure.message).to.equal('store unavailable; retry later');
          expect(service.logs.join('')).to.contain('MongoDB is unavailable');
        } finally {
          await (proxy ? proxy.restore() : stores.mongoServer.restart());
        }
        const found = await eventually(() => service.client.getMfaStatus({ userId }), 30_000);
        expect(found.enabled).to.equal(false);
      } finally {
        if (proxy) {
          await service.stop();
          await proxy.close();
        }
      }
    });
  });
});
