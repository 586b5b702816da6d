import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { QrFormat, TotpAlgorithm } from '../../src/gen/mfa/v1/mfa.js';
import { codeAt, enrollUser, newUserId, useMemoryService } from '../support/e2e-fixture.js';
import { expectFailure } from '../support/grpc-client.js';
import { decodePng, decodeSvg, decodeText } from '../support/qr-decode.js';

// On the embedded stores: nothing here looks at a store, and the TTL passes by the test's clock.
describe('Enrollment (gRPC, in-memory stores)', () => {
  const svc = useMemoryService({ MFA_ISSUER: 'Acme Co' });

  describe('BeginTotpEnrollment', () => {
    it('returns a fresh 160-bit secret, its otpauth URI, and PNG, SVG and text QR codes of exactly that URI', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId('alice');
      const before = clock.now().getTime();
      const begun = await client.beginTotpEnrollment({ userId, accountName: 'alice@example.com' });

      expect(begun.secret).to.match(/^[A-Z2-7]{32}$/);
      expect(begun.enrollmentId).to.match(/^enr_/);
      const uri = new URL(begun.otpauthUri);
      expect(decodeURIComponent(uri.pathname)).to.equal('/Acme Co:alice@example.com');
      expect(Object.fromEntries(uri.searchParams)).to.deep.equal({
        secret: begun.secret,
        issuer: 'Acme Co',
        algorithm: 'SHA1',
        digits: '6',
        period: '30',
      });
      expect(decodePng(begun.qrCodePng)).to.equal(begun.otpauthUri);
      expect(decodeSvg(begun.qrCodeSvg)).to.equal(begun.otpauthUri);
      expect(decodeText(begun.qrCodeText)).to.equal(begun.otpauthUri);
      expect(begun).to.deep.include({ algorithm: TotpAlgorithm.TOTP_ALGORITHM_SHA1, digits: 6, periodSeconds: 30 });
      expect(begun.expiresAt!.getTime() - before).to.be.within(59_000, 61_000);

      const again = await client.beginTotpEnrollment({ userId });
      expect(again.secret).to.not.equal(begun.secret);
      expect(again.enrollmentId).to.not.equal(begun.enrollmentId);
    });

    it('returns only the QR code renderings qr_formats asks for, each of the otpauth URI; a format listed twice counts once', async () => {
      const { client } = svc.current;
      const png = await client.beginTotpEnrollment({ userId: newUserId('png'), qrFormats: [QrFormat.QR_FORMAT_PNG, QrFormat.QR_FORMAT_PNG] });
      expect(decodePng(png.qrCodePng)).to.equal(png.otpauthUri);
      expect([png.qrCodeSvg, png.qrCodeText]).to.deep.equal(['', '']);

      const svgAndText = await client.beginTotpEnrollment({ userId: newUserId('svg-text'), qrFormats: [QrFormat.QR_FORMAT_TEXT, QrFormat.QR_FORMAT_SVG] });
      expect(svgAndText.qrCodePng).to.have.length(0);
      expect(decodeSvg(svgAndText.qrCodeSvg)).to.equal(svgAndText.otpauthUri);
      expect(decodeText(svgAndText.qrCodeText)).to.equal(svgAndText.otpauthUri);
    });

    it('labels the account with the user id when account_name is empty, and takes an issuer override', async () => {
      const userId = newUserId('bob');
      const begun = await svc.current.client.beginTotpEnrollment({ userId, issuer: 'Other Inc' });
      const uri = new URL(begun.otpauthUri);
      expect(decodeURIComponent(uri.pathname)).to.equal(`/Other Inc:${userId}`);
      expect(uri.searchParams.get('issuer')).to.equal('Other Inc');
    });

    it('fails ALREADY_EXISTS with reason MFA_ALREADY_ENABLED when MFA is on', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      await expectFailure(client.beginTotpEnrollment({ userId: user.userId }), status.ALREADY_EXISTS, 'MFA_ALREADY_ENABLED');
    });

    it('reports the pending enrollment in GetMfaStatus', async () => {
      const userId = newUserId();
      const begun = await svc.current.client.beginTotpEnrollment({ userId });
      const found = await svc.current.client.getMfaStatus({ userId });
      expect(found.enabled).to.equal(false);
      expect(found.pendingEnrollmentExpiresAt!.getTime()).to.equal(begun.expiresAt!.getTime());
    });
  });

  describe('ConfirmTotpEnrollment', () => {
    it('turns MFA on durably with 10 recovery codes and revokes sessions', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const issuedBefore = new Date(clock.now().getTime() - 1000);
      const begun = await client.beginTotpEnrollment({ userId });
      const confirmed = await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock) });

      expect(confirmed.recoveryCodes).to.have.length(10);
      for (const code of confirmed.recoveryCodes) expect(code).to.match(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      expect(confirmed.sessionsRevokedAt!.getTime()).to.equal(confirmed.enabledAt!.getTime());
      const found = await client.getMfaStatus({ userId });
      expect(found).to.deep.include({ enabled: true, recoveryCodesRemaining: 10, rememberedDevices: 0 });
      expect(found.pendingEnrollmentExpiresAt).to.equal(undefined);
      expect((await client.checkSession({ userId, sessionIssuedAt: issuedBefore })).revoked).to.equal(true);
    });

    it('fails ALREADY_EXISTS with reason MFA_ALREADY_ENABLED when MFA is already on', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const begun = await client.beginTotpEnrollment({ userId });
      await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock) });
      await expectFailure(
        client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock, 1) }),
        status.ALREADY_EXISTS,
        'MFA_ALREADY_ENABLED',
      );
    });

    it('does not accept the confirming code again (RFC 6238 §5.2)', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const begun = await client.beginTotpEnrollment({ userId });
      const code = codeAt(begun.secret, clock);
      await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
      await expectFailure(client.verifyTotp({ userId, code }), status.PERMISSION_DENIED, 'CODE_REUSED');
    });

    it('fails PERMISSION_DENIED with reason INVALID_CODE for a wrong code, and the enrollment stays usable', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const begun = await client.beginTotpEnrollment({ userId });
      const right = codeAt(begun.secret, clock);
      const wrong = right === '000000' ? '111111' : '000000';
      await expectFailure(
        client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: wrong }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
      await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: right });
    });

    it('fails NOT_FOUND with reason ENROLLMENT_NOT_FOUND for an unknown, replaced, cancelled or foreign enrollment', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId();
      const first = await client.beginTotpEnrollment({ userId });
      const second = await client.beginTotpEnrollment({ userId });
      const confirm = (enrollmentId: string, who = userId, secret = second.secret) =>
        client.confirmTotpEnrollment({ userId: who, enrollmentId, code: codeAt(secret, clock) });

      await expectFailure(confirm('enr_unknown'), status.NOT_FOUND, 'ENROLLMENT_NOT_FOUND');
      await expectFailure(confirm(first.enrollmentId, userId, first.secret), status.NOT_FOUND, 'ENROLLMENT_NOT_FOUND');
      await expectFailure(confirm(second.enrollmentId, newUserId('mallory')), status.NOT_FOUND, 'ENROLLMENT_NOT_FOUND');

      await client.cancelTotpEnrollment({ userId, enrollmentId: second.enrollmentId });
      await expectFailure(confirm(second.enrollmentId), status.NOT_FOUND, 'ENROLLMENT_NOT_FOUND');
      await expectFailure(
        client.cancelTotpEnrollment({ userId, enrollmentId: second.enrollmentId }),
        status.NOT_FOUND,
        'ENROLLMENT_NOT_FOUND',
      );
    });
  });

  describe('when the enrollment TTL has passed', () => {
    const short = useMemoryService({ MFA_ENROLLMENT_TTL_SECONDS: '1' });

    it('fails NOT_FOUND with reason ENROLLMENT_NOT_FOUND', async () => {
      const { client, clock } = short.current;
      const userId = newUserId();
      const begun = await client.beginTotpEnrollment({ userId });
      expect(begun.expiresAt!.getTime() - clock.now().getTime()).to.be.at.most(1000);
      clock.advance(1200);
      await expectFailure(
        client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock) }),
        status.NOT_FOUND,
        'ENROLLMENT_NOT_FOUND',
      );
      expect((await client.getMfaStatus({ userId })).pendingEnrollmentExpiresAt).to.equal(undefined);
    });
  });
});
