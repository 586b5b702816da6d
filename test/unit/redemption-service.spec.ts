import { expect } from 'chai';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

describe('RedemptionService (issue 25, in memory with a fake clock)', () => {
  const binding = { audience: 'payments', purpose: 'payments.transfer', transaction: null };
  const setup = () => {
    const h = serviceHarness({ MFA_ASSERTION_ISSUER: 'https://mfa.test' });
    const { assertions, redemptions } = h.services;
    const issue = async (userId = 'alice') =>
      assertions.issue(await assertions.prepare(), userId, { method: 'totp', authenticatorId: 'aut_aaaaaaaaaaaaaaaa', authTime: h.clock.now() }, binding);
    const redeem = (token: string, redemptionId: string, caller = '') => redemptions.redeem({ token, audience: 'payments', redemptionId, caller });
    return { h, issue, redeem };
  };

  it('answers the first redemption and its retry OK, any other ASSERTION_ALREADY_USED', async () => {
    const { issue, redeem } = setup();
    const { token, jti } = await issue();
    expect((await redeem(token, 'r1')).assertionId).to.equal(jti);
    expect(await reasonOf(redeem(token, 'r1'))).to.equal('OK');
    expect(await reasonOf(redeem(token, 'r2'))).to.equal('ASSERTION_ALREADY_USED');
  });

  it('answers a retry with the same redemption_id OK after exp while the record is kept, and refuses a new redemption after exp', async () => {
    const { h, issue, redeem } = setup();
    const [first, second] = [await issue(), await issue()];
    h.clock.advance(299_000);
    expect(await reasonOf(redeem(first.token, 'r1'))).to.equal('OK');
    h.clock.advance(2_000);
    expect(await reasonOf(redeem(first.token, 'r1')), 'a retry after exp').to.equal('OK');
    expect(await reasonOf(redeem(first.token, 'r2')), 'another redemption after exp').to.equal('ASSERTION_ALREADY_USED');
    expect(await reasonOf(redeem(second.token, 'r3')), 'a new redemption after exp').to.equal('INVALID_REQUEST');
    h.clock.advance(5 * 60_000);
    expect(await reasonOf(redeem(first.token, 'r1')), 'past the record\'s retention').to.equal('INVALID_REQUEST');
  });

  it('counts an assertion issued in the second of a revocation as revoked, and one of the next second not', async () => {
    const { h, issue, redeem } = setup();
    h.clock.advance(1000 - (h.clock.now().getTime() % 1000) + 100);
    const before = await issue();
    h.clock.advance(500);
    await h.services.sessions.revoke('alice');
    expect(await reasonOf(redeem(before.token, 'r1'))).to.equal('ASSERTION_REVOKED');
    h.clock.advance(500);
    expect(await reasonOf(redeem((await issue()).token, 'r2'))).to.equal('OK');
  });

  it('lets only the audience redeem when callers authenticate, before anything is recorded', async () => {
    const { issue, redeem } = setup();
    const { token } = await issue();
    expect(await reasonOf(redeem(token, 'r1', 'login'))).to.equal('CALLER_NOT_AUDIENCE');
    expect(await reasonOf(redeem(token, 'r2', 'payments'))).to.equal('OK');
  });

  it('removes expired redemptions on a later redemption\'s write', async () => {
    const { h, issue, redeem } = setup();
    const first = await issue();
    await redeem(first.token, 'r1');
    h.clock.advance(11 * 60_000);
    expect(await h.stores.redemptions.find(first.jti), 'kept until swept').to.not.equal(null);
    await redeem((await issue('bob')).token, 'r2');
    expect(await h.stores.redemptions.find(first.jti)).to.equal(null);
  });

  it('refuses everything with ASSERTIONS_NOT_CONFIGURED while MFA_ASSERTION_ISSUER is not set', async () => {
    const { services } = serviceHarness();
    expect(await reasonOf(services.assertions.prepare())).to.equal('ASSERTIONS_NOT_CONFIGURED');
    expect(await reasonOf(services.redemptions.redeem({ token: 'x', audience: 'payments', redemptionId: 'r', caller: '' }))).to.equal('ASSERTIONS_NOT_CONFIGURED');
  });
});
