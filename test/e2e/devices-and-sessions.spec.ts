import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { codeAt, enrollUser, newUserId, useMemoryService, useRealStores, useService } from '../support/e2e-fixture.js';
import { expectFailure } from '../support/grpc-client.js';

// On the embedded stores, but for what Redis must not lose (at the end): expiry passes by the test's clock.
describe('Remembered devices and sessions (gRPC, in-memory stores)', () => {
  const svc = useMemoryService({ MFA_REMEMBER_DEVICE_DAYS: '30' });

  describe('remember_device', () => {
    it('returns a 256-bit token once; the token works for its own user only, until forgotten', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const other = await enrollUser(client, clock);
      const { userId } = user;
      const verified = await client.verifyTotp({ userId, code: codeAt(user.secret, clock), rememberDevice: true, deviceLabel: 'Firefox on Linux' });
      expect(Buffer.from(verified.deviceToken, 'base64url')).to.have.length(32);
      const days = (verified.deviceExpiresAt!.getTime() - verified.verifiedAt!.getTime()) / 86_400_000;
      expect(days).to.equal(30);

      const checked = await client.checkRememberedDevice({ userId, deviceToken: verified.deviceToken });
      expect(checked.remembered).to.equal(true);
      expect(checked.expiresAt!.getTime()).to.equal(verified.deviceExpiresAt!.getTime());
      expect((await client.checkRememberedDevice({ userId: other.userId, deviceToken: verified.deviceToken })).remembered).to.equal(false);
      expect((await client.checkRememberedDevice({ userId, deviceToken: 'not-a-token' }))).to.deep.include({ remembered: false, deviceId: '' });

      const { devices } = await client.listRememberedDevices({ userId });
      expect(devices).to.have.length(1);
      expect(devices[0]).to.deep.include({ deviceId: checked.deviceId, label: 'Firefox on Linux' });
      expect(JSON.stringify(devices)).to.not.contain(verified.deviceToken);
      expect((await client.getMfaStatus({ userId })).rememberedDevices).to.equal(1);

      await client.forgetRememberedDevice({ userId, deviceId: checked.deviceId });
      expect((await client.checkRememberedDevice({ userId, deviceToken: verified.deviceToken })).remembered).to.equal(false);
      expect((await client.listRememberedDevices({ userId })).devices).to.deep.equal([]);
      await expectFailure(client.forgetRememberedDevice({ userId, deviceId: checked.deviceId }), status.NOT_FOUND, 'DEVICE_NOT_FOUND');
    });

    it('remembers a device after a recovery code too, lists newest first, and stops remembering after expiry', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const { userId } = user;
      const first = await client.verifyTotp({ userId, code: codeAt(user.secret, clock), rememberDevice: true, deviceLabel: 'phone' });
      clock.advance(1000);
      const second = await client.verifyRecoveryCode({ userId, recoveryCode: user.recoveryCodes[0], rememberDevice: true, deviceLabel: 'tablet' });
      expect(second.deviceToken).to.not.equal('');
      const { devices } = await client.listRememberedDevices({ userId });
      expect(devices.map((d) => d.label)).to.deep.equal(['tablet', 'phone']);

      clock.advance(30 * 86_400_000);
      expect((await client.checkRememberedDevice({ userId, deviceToken: first.deviceToken })).remembered).to.equal(false);
      expect((await client.listRememberedDevices({ userId })).devices).to.deep.equal([]);
    });

    it('forgets every device when MFA is enabled again', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const { userId } = user;
      const verified = await client.verifyTotp({ userId, code: codeAt(user.secret, clock), rememberDevice: true });
      await client.disableMfa({ userId, code: user.recoveryCodes[0] });
      await enrollUser(client, clock, userId);
      expect((await client.checkRememberedDevice({ userId, deviceToken: verified.deviceToken })).remembered).to.equal(false);
    });

    it('fails NOT_FOUND with reason DEVICE_NOT_FOUND for an unknown device', async () => {
      await expectFailure(
        svc.current.client.forgetRememberedDevice({ userId: newUserId(), deviceId: 'dev_nopenopenopenope' }),
        status.NOT_FOUND,
        'DEVICE_NOT_FOUND',
      );
    });
  });

  describe('RevokeSessions and CheckSession', () => {
    it('revokes sessions issued before the revocation and not those issued after', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const old = new Date(clock.now().getTime() - 60_000);
      expect(await client.checkSession({ userId, sessionIssuedAt: old })).to.deep.include({ revoked: false, sessionsRevokedAt: undefined });
      const { sessionsRevokedAt } = await client.revokeSessions({ userId });
      expect((await client.checkSession({ userId, sessionIssuedAt: old })).revoked).to.equal(true);
      const checked = await client.checkSession({ userId, sessionIssuedAt: new Date(sessionsRevokedAt!.getTime() + 1) });
      expect(checked.revoked).to.equal(false);
      expect(checked.sessionsRevokedAt!.getTime()).to.equal(sessionsRevokedAt!.getTime());
      expect((await client.getMfaStatus({ userId })).sessionsRevokedAt!.getTime()).to.equal(sessionsRevokedAt!.getTime());
    });
  });
});

describe('Revoked sessions (gRPC, real Redis and MongoDB)', () => {
  // Servers of its own: it flushes Redis (FLUSHALL).
  const stores = useRealStores({ private: true });
  const svc = useService(stores);

  it('keeps a revoked session revoked after Redis is flushed (the value is durable in MongoDB)', async () => {
    const { client, clock } = svc.current;
    const userId = newUserId();
    const old = new Date(clock.now().getTime() - 60_000);
    await client.revokeSessions({ userId });
    await stores.redis.flushall();
    expect((await client.checkSession({ userId, sessionIssuedAt: old })).revoked).to.equal(true);
    // and again from the refilled cache
    expect((await client.checkSession({ userId, sessionIssuedAt: old })).revoked).to.equal(true);
  });
});
