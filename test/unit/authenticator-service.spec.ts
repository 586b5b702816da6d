import { expect } from 'chai';
import { generateTotp } from '../../src/domain/totp.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

describe('Several authenticators per user (in-memory stores, fake clock)', () => {
  const noDevice = { rememberDevice: false, deviceLabel: '' };

  /** Enrolls the first authenticator, then adds one labelled `label`, confirmed with a code of the first. */
  async function withTwo(env: Record<string, string> = {}) {
    const h = serviceHarness(env);
    const first = await h.enroll('ann');
    const begun = await h.services.enrollment.begin({ userId: 'ann', accountName: '', issuer: '', authenticatorLabel: 'Backup phone', addAuthenticator: true });
    const added = await h.services.confirmation.confirm({
      userId: 'ann',
      enrollmentId: begun.enrollmentId,
      code: h.code(begun.secret),
      existingCode: h.code(first.secret),
    });
    h.clock.advance(30_000);
    return { h, first, second: { secret: begun.secret, authenticatorId: added.authenticatorId }, added };
  }

  it('adds an authenticator with a code of an existing one: no recovery codes, no sessions revoked', async () => {
    const { h, added, second } = await withTwo();
    expect(added.recoveryCodes).to.deep.equal([]);
    expect(added.sessionsRevokedAt).to.equal(null);
    expect(added.authenticatorId).to.equal(second.authenticatorId);
    const list = await h.services.authenticators.list('ann');
    expect(list.map((a) => a.label)).to.deep.equal(['Authenticator app', 'Backup phone']);
    expect((await h.services.status.get('ann')).authenticators).to.equal(2);
  });

  it('accepts a code of either authenticator and says which, with replay protection per authenticator', async () => {
    const { h, first, second } = await withTwo();
    const step = new Date(h.clock.now().getTime());
    const a = await h.services.verification.verifyTotp({ userId: 'ann', code: generateTotp(first.secret, step), ...noDevice });
    expect(a.authenticatorId).to.not.equal(second.authenticatorId);
    // Same period, other authenticator: its own step, unaffected.
    const b = await h.services.verification.verifyTotp({ userId: 'ann', code: generateTotp(second.secret, step), ...noDevice });
    expect(b.authenticatorId).to.equal(second.authenticatorId);
    expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'ann', code: generateTotp(first.secret, step), ...noDevice }))).to.equal('CODE_REUSED');
    const used = (await h.services.authenticators.list('ann')).find((x) => x.authenticatorId === second.authenticatorId)!;
    expect(used.lastUsedAt!.getTime()).to.equal(h.clock.now().getTime());
  });

  it('needs existing_code to add one, checks it like a login, and counts a wrong one towards the lockout', async () => {
    const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '2' });
    const first = await h.enroll('bo');
    const begun = await h.services.enrollment.begin({ userId: 'bo', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: true });
    const confirm = (existingCode: string) =>
      reasonOf(h.services.confirmation.confirm({ userId: 'bo', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode }));
    expect(await confirm('')).to.equal('INVALID_REQUEST');
    const wrong = h.code(first.secret) === '000000' ? '111111' : '000000';
    expect(await confirm(wrong)).to.equal('INVALID_CODE');
    expect(await confirm(wrong)).to.equal('LOCKED_OUT');
  });

  it('refuses add_authenticator without MFA, and a plain Begin with MFA on', async () => {
    const h = serviceHarness();
    expect(await reasonOf(h.services.enrollment.begin({ userId: 'cy', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: true }))).to.equal('MFA_NOT_ENABLED');
    await h.enroll('cy');
    expect(await reasonOf(h.services.enrollment.begin({ userId: 'cy', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: false }))).to.equal('MFA_ALREADY_ENABLED');
  });

  it('stops at MFA_MAX_AUTHENTICATORS', async () => {
    const { h } = await withTwo({ MFA_MAX_AUTHENTICATORS: '2' });
    expect(await reasonOf(h.services.enrollment.begin({ userId: 'ann', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: true }))).to.equal(
      'AUTHENTICATOR_LIMIT',
    );
  });

  it('adds an authenticator once when its confirmation is sent twice at once', async () => {
    const h = serviceHarness();
    const first = await h.enroll('dee');
    const begun = await h.services.enrollment.begin({ userId: 'dee', accountName: '', issuer: '', authenticatorLabel: 'one', addAuthenticator: true });
    const confirm = (existingCode: string) =>
      h.services.confirmation.confirm({ userId: 'dee', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode });
    const results = await Promise.all([confirm(first.recoveryCodes[0]!), confirm(first.recoveryCodes[1]!)]);
    expect(results.map((r) => r.authenticatorId)).to.deep.equal([begun.authenticatorId, begun.authenticatorId]);
    expect((await h.services.authenticators.list('dee')).length).to.equal(2);
  });

  it('renames, and removes one with a code of the one removed, revoking sessions; never the last', async () => {
    const { h, second } = await withTwo();
    const renamed = await h.services.authenticators.rename({ userId: 'ann', authenticatorId: second.authenticatorId, label: 'Old phone' });
    expect(renamed.label).to.equal('Old phone');
    expect(await reasonOf(h.services.authenticators.rename({ userId: 'ann', authenticatorId: 'aut_zzzzzzzzzzzzzzzz', label: 'x' }))).to.equal('AUTHENTICATOR_NOT_FOUND');
    const before = new Date(h.clock.now().getTime() - 1);
    const { removedAt } = await h.services.authenticators.remove({ userId: 'ann', authenticatorId: second.authenticatorId, code: h.code(second.secret) });
    expect((await h.services.sessions.check('ann', before)).revoked).to.equal(true);
    expect((await h.services.sessions.revokedAt('ann'))!.getTime()).to.equal(removedAt.getTime());
    const [only] = await h.services.authenticators.list('ann');
    expect(await reasonOf(h.services.authenticators.remove({ userId: 'ann', authenticatorId: second.authenticatorId, code: '123456' }))).to.equal('AUTHENTICATOR_NOT_FOUND');
    expect(await reasonOf(h.services.authenticators.remove({ userId: 'ann', authenticatorId: only!.authenticatorId, code: '123456' }))).to.equal('LAST_AUTHENTICATOR');
  });

  it('never removes the last two at once', async () => {
    const { h, first } = await withTwo();
    const [a, b] = await h.services.authenticators.list('ann');
    const results = await Promise.all([
      reasonOf(h.services.authenticators.remove({ userId: 'ann', authenticatorId: a!.authenticatorId, code: first.recoveryCodes[0]! })),
      reasonOf(h.services.authenticators.remove({ userId: 'ann', authenticatorId: b!.authenticatorId, code: first.recoveryCodes[1]! })),
    ]);
    expect(results.filter((r) => r === 'OK')).to.have.length(1);
    expect(results).to.include('LAST_AUTHENTICATOR');
    expect((await h.services.authenticators.list('ann')).length).to.equal(1);
  });

  it('turns every authenticator off with DisableMfa and ResetMfa', async () => {
    const { h, second } = await withTwo();
    await h.services.verification.disable({ userId: 'ann', code: h.code(second.secret) });
    expect(await h.services.authenticators.list('ann')).to.deep.equal([]);
    expect((await h.services.status.get('ann')).authenticators).to.equal(0);
  });

  it('answers a retried add with the same answer, and does not spend the existing code twice', async () => {
    const h = serviceHarness();
    const first = await h.enroll('eli');
    const begun = await h.services.enrollment.begin({ userId: 'eli', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: true });
    const request = { userId: 'eli', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: first.recoveryCodes[0]! };
    h.faults.factors('spendProof', 'after');
    expect(await reasonOf(h.services.confirmation.confirm(request))).to.equal('STORE_UNAVAILABLE');
    const retried = await h.services.confirmation.confirm(request);
    expect(retried.authenticatorId).to.equal(begun.authenticatorId);
    expect((await h.services.status.get('eli')).recoveryCodesRemaining).to.equal(9);
    expect((await h.services.authenticators.list('eli')).length).to.equal(2);
  });
});
