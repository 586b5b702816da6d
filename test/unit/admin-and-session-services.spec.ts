import { expect } from 'chai';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

describe('AdminService and SessionService (in-memory stores, fake clock)', () => {
  it('refuses to reset a user without MFA, and does not log them out', async () => {
    const h = serviceHarness();
    expect(await reasonOf(h.services.admin.resetMfa('frank', 'lost phone'))).to.equal('MFA_NOT_ENABLED');
    expect((await h.services.sessions.check('frank', new Date(0))).revoked).to.equal(false);
  });

  it('resets MFA, revokes sessions issued before, and lets the user enroll again at once', async () => {
    const h = serviceHarness();
    await h.enroll('gus');
    const before = new Date(h.clock.now().getTime() - 1);
    const { resetAt } = await h.services.admin.resetMfa('gus', 'lost phone');
    expect((await h.services.sessions.check('gus', before)).revoked).to.equal(true);
    expect((await h.services.sessions.check('gus', new Date(resetAt.getTime() + 1))).revoked).to.equal(false);
    expect(await reasonOf(h.services.enrollment.begin({ userId: 'gus', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: false }))).to.equal('OK');
  });

  it('moves sessionsRevokedAt only forward', async () => {
    const h = serviceHarness();
    const first = await h.services.sessions.revoke('hana');
    expect((await h.services.sessions.revokedAt('hana'))!.getTime()).to.equal(first.getTime());
    h.clock.advance(1000);
    const second = await h.services.sessions.revoke('hana');
    expect((await h.services.sessions.revokedAt('hana'))!.getTime()).to.equal(second.getTime());
    expect((await h.services.sessions.check('hana', first)).revoked).to.equal(true);
  });
});
