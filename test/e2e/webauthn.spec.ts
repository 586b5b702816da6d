import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AuthenticatorKind } from '../../src/gen/mfa/v1/mfa.js';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { CREDENTIAL_CLAIMS_COLLECTION } from '../../src/stores/mongo/mongo-credential-claim-store.js';
import { SECURITY_EVENTS_COLLECTION } from '../../src/stores/mongo/mongo-security-event-log.js';
import { codeAt, enrollUser, newUserId, useRealStores, useService, type RealStores } from '../support/e2e-fixture.js';
import { expectFailure, outcomeOf, type MfaClient } from '../support/grpc-client.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { startTestService } from '../support/test-service.js';
import { eventually } from '../support/eventually.js';
import { createMfaClient, type MfaClient as PublicClient } from '../../src/client/index.js';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestationCa } from '../support/attestation-ca.js';

const ORIGIN = 'https://app.example.com';
const RP_ID = 'example.com';
const WEBAUTHN_ENV = { MFA_WEBAUTHN_RP_ID: RP_ID, MFA_WEBAUTHN_ORIGINS: `${ORIGIN},https://admin.example.com` };

function newKey(options: Partial<ConstructorParameters<typeof SoftAuthenticator>[0]> = {}): SoftAuthenticator {
  return new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...options });
}

/** Registers `key` as the user's first factor; returns the response of Finish. */
async function registerFirst(client: MfaClient, userId: string, key: SoftAuthenticator) {
  const begun = await client.beginWebAuthnRegistration({ userId, userName: `${userId}@example.com` });
  const finished = await client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson) });
  return { begun, finished };
}

/** Begins an authentication and has `key` answer it: a WebAuthnAssertion. */
async function assertion(client: MfaClient, userId: string, key: SoftAuthenticator) {
  const begun = await client.beginWebAuthnAuthentication({ userId });
  return { challengeId: begun.challengeId, credentialJson: key.assert(begun.optionsJson) };
}

/** The user's security events, relayed or still in the outbox. */
async function eventsOf(stores: RealStores, userId: string): Promise<Array<{ type: string; authenticatorKind?: string; authenticatorId?: string }>> {
  const db = stores.mongo.db(stores.mongoDb);
  const relayed = await db.collection(SECURITY_EVENTS_COLLECTION).find({ userId }).toArray();
  const doc = await db.collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
  // An event may be in both for a moment (relayed, not yet taken out of the outbox): once each.
  const all = [...relayed, ...((doc?.['outbox'] as []) ?? [])] as unknown as Array<{ eventId: string; _id?: string }>;
  const seen = new Set<string>();
  return all.filter((e) => {
    const id = e.eventId ?? e._id;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  }) as never;
}

describe('Security keys and passkeys (WebAuthn) through gRPC, on real Redis and MongoDB', function () {
  this.timeout(60_000);
  const stores = useRealStores();
  const svc = useService(stores, WEBAUTHN_ENV);

  it('registers a key as the first factor: MFA on, recovery codes, sessions revoked; Finish again answers the same', async () => {
    const { client } = svc.current;
    const userId = newUserId('key-first');
    const key = newKey();
    const { begun, finished } = await registerFirst(client, userId, key);
    const options = JSON.parse(begun.optionsJson);
    expect(options.rp).to.deep.include({ id: RP_ID });
    expect(options.authenticatorSelection.residentKey).to.equal('discouraged');
    expect(options.excludeCredentials).to.deep.equal([]);
    // WebAuthn §14.6.1: the handle is random, never the user id.
    expect(Buffer.from(options.user.id, 'base64url')).to.have.length(32);
    expect(Buffer.from(options.user.id, 'base64url').toString()).to.not.contain(userId);
    expect(finished.recoveryCodes).to.have.length(10);
    expect(finished.sessionsRevokedAt).to.not.equal(undefined);

    const again = await client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson) });
    expect(again).to.deep.equal(finished);

    const status_ = await client.getMfaStatus({ userId });
    expect(status_).to.deep.include({ enabled: true, authenticators: 1, recoveryCodesRemaining: 10 });
    const [listed] = (await client.listAuthenticators({ userId })).authenticators;
    expect(listed).to.deep.include({
      authenticatorId: finished.authenticatorId,
      label: 'Security key',
      kind: AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN,
      aaguid: 'a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90',
      transports: ['usb', 'nfc'],
      backupEligible: false,
      backedUp: false,
    });
    const db = stores.mongo.db(stores.mongoDb);
    const doc = await db.collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
    expect(doc!['webauthnUserHandle']).to.equal(options.user.id);
    expect(await db.collection(CREDENTIAL_CLAIMS_COLLECTION).findOne({ _id: key.id as never })).to.deep.include({ userId });
    const enabled = (await eventsOf(stores, userId)).find((e) => e.type === 'MFA_ENABLED');
    expect(enabled).to.deep.include({ authenticatorKind: 'webauthn', authenticatorId: finished.authenticatorId });
  });

  it('adds a key (Ed25519, packed self-attestation) to an app user with a TOTP code; TOTP checks still read only the app', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    const key = newKey({ algorithm: 'Ed25519', attestation: 'packed' });
    const begun = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada', authenticatorLabel: 'YubiKey', addAuthenticator: true });
    const added = await client.finishWebAuthnRegistration({
      userId: user.userId,
      registrationId: begun.registrationId,
      credentialJson: key.register(begun.optionsJson),
      existingCode: codeAt(user.secret, clock),
    });
    expect(added.recoveryCodes).to.deep.equal([]);
    expect(added.sessionsRevokedAt).to.equal(undefined);
    const kinds = (await client.listAuthenticators({ userId: user.userId })).authenticators.map((a) => [a.label, a.kind]);
    expect(kinds).to.deep.equal([
      ['Authenticator app', AuthenticatorKind.AUTHENTICATOR_KIND_TOTP],
      ['YubiKey', AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN],
    ]);
    clock.advance(30_000);
    expect((await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) })).authenticatorId).to.equal(user.authenticatorId);
    // A second key is proved by the first one's assertion; the first is in excludeCredentials.
    const second = newKey();
    const next = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada', addAuthenticator: true });
    expect(JSON.parse(next.optionsJson).excludeCredentials.map((c: { id: string }) => c.id)).to.deep.equal([key.id]);
    const proof = await assertion(client, user.userId, key);
    await client.finishWebAuthnRegistration({ userId: user.userId, registrationId: next.registrationId, credentialJson: second.register(next.optionsJson), webauthnAssertion: proof });
    expect((await client.getMfaStatus({ userId: user.userId })).authenticators).to.equal(3);
    const added_ = (await eventsOf(stores, user.userId)).filter((e) => e.type === 'AUTHENTICATOR_ADDED').map((e) => e.authenticatorKind);
    expect(added_).to.deep.equal(['webauthn', 'webauthn']);
  });

  it('verifies an assertion at login, with and without remembering the device', async () => {
    const { client } = svc.current;
    const userId = newUserId('key-login');
    const key = newKey();
    const { finished } = await registerFirst(client, userId, key);
    const plain = await client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) });
    expect(plain).to.deep.include({ authenticatorId: finished.authenticatorId, userVerified: true, deviceToken: '' });
    const remembered = await client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key), rememberDevice: true, deviceLabel: 'Firefox' });
    expect(remembered.deviceToken).to.not.equal('');
    expect((await client.checkRememberedDevice({ userId, deviceToken: remembered.deviceToken })).remembered).to.equal(true);
    const [listed] = (await client.listAuthenticators({ userId })).authenticators;
    expect(listed!.lastUsedAt!.getTime()).to.equal(remembered.verifiedAt!.getTime());
    // A passkey that is backup eligible, not yet synced at registration, synced by its next use.
    const passkeyUser = newUserId('passkey');
    const passkey = newKey({ backupEligible: true });
    passkey.backedUp = false;
    await registerFirst(client, passkeyUser, passkey);
    expect((await client.listAuthenticators({ userId: passkeyUser })).authenticators[0]).to.deep.include({ backupEligible: true, backedUp: false });
    passkey.backedUp = true;
    expect((await client.verifyWebAuthn({ userId: passkeyUser, assertion: await assertion(client, passkeyUser, passkey) })).authenticatorId).to.not.equal('');
    expect((await client.listAuthenticators({ userId: passkeyUser })).authenticators[0]).to.deep.include({ backupEligible: true, backedUp: true });
    const renamed = await client.renameAuthenticator({ userId, authenticatorId: finished.authenticatorId, label: 'Blue key' });
    expect(renamed.authenticator).to.deep.include({ label: 'Blue key', kind: AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN });
    const doc = await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
    expect((doc!['authenticators'] as Record<string, { signCount: number }>)[finished.authenticatorId]!.signCount).to.equal(2);
  });

  it('regenerates codes, removes an authenticator and turns MFA off with assertions; the user handle stays', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    const key = newKey();
    const begun = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada', addAuthenticator: true });
    const handle = JSON.parse(begun.optionsJson).user.id;
    const added = await client.finishWebAuthnRegistration({
      userId: user.userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), existingCode: user.recoveryCodes[0],
    });
    const regenerated = await client.regenerateRecoveryCodes({ userId: user.userId, webauthnAssertion: await assertion(client, user.userId, key) });
    expect(regenerated.recoveryCodes).to.have.length(10);
    await client.removeAuthenticator({ userId: user.userId, authenticatorId: user.authenticatorId, webauthnAssertion: await assertion(client, user.userId, key) });
    const left = (await client.listAuthenticators({ userId: user.userId })).authenticators.map((a) => a.authenticatorId);
    expect(left).to.deep.equal([added.authenticatorId]);
    await expectFailure(
      client.removeAuthenticator({ userId: user.userId, authenticatorId: added.authenticatorId, webauthnAssertion: await assertion(client, user.userId, key) }),
      status.FAILED_PRECONDITION,
      'LAST_AUTHENTICATOR',
    );
    await client.disableMfa({ userId: user.userId, webauthnAssertion: await assertion(client, user.userId, key) });
    expect((await client.getMfaStatus({ userId: user.userId })).enabled).to.equal(false);
    // Kept across DisableMfa: a key registered again names the same user.
    const again = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada' });
    expect(JSON.parse(again.optionsJson).user.id).to.equal(handle);
    // The key's claim names a user who no longer holds it: the same key registers again.
    await client.finishWebAuthnRegistration({ userId: user.userId, registrationId: again.registrationId, credentialJson: key.register(again.optionsJson) });
  });

  it('wants exactly one of a code and an assertion, naming both fields', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    const both = await expectFailure(
      client.disableMfa({ userId: user.userId, code: codeAt(user.secret, clock), webauthnAssertion: { challengeId: 'wch_x', credentialJson: '{"id":"x"}' } }),
      status.INVALID_ARGUMENT,
      'INVALID_REQUEST',
    );
    expect(both.badFields).to.deep.equal(['code', 'webauthn_assertion']);
    const neither = await expectFailure(client.regenerateRecoveryCodes({ userId: user.userId }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
    expect(neither.badFields).to.deep.equal(['code', 'webauthn_assertion']);
    const begun = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada', addAuthenticator: true });
    const missing = await expectFailure(
      client.finishWebAuthnRegistration({ userId: user.userId, registrationId: begun.registrationId, credentialJson: newKey().register(begun.optionsJson) }),
      status.INVALID_ARGUMENT,
      'INVALID_REQUEST',
    );
    expect(missing.badFields).to.deep.equal(['existing_code', 'webauthn_assertion']);
    const bad = await expectFailure(client.verifyWebAuthn({ userId: user.userId, assertion: { challengeId: 'wch_x', credentialJson: 'not json' } }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
    expect(bad.badFields).to.deep.equal(['assertion.credential_json']);
  });

  it('answers CHALLENGE_NOT_FOUND for a replayed, expired, cross-purpose or another user\'s challenge, and counts none of them', async () => {
    const { client, clock } = svc.current;
    const userId = newUserId('key-challenges');
    const key = newKey();
    await registerFirst(client, userId, key);
    const other = newUserId('key-other');
    const otherKey = newKey();
    await registerFirst(client, other, otherKey);

    const used = await assertion(client, userId, key);
    await client.verifyWebAuthn({ userId, assertion: used });
    const notFound = (call: Promise<unknown>) => expectFailure(call, status.NOT_FOUND, 'CHALLENGE_NOT_FOUND');
    for (let round = 0; round < 6; round += 1) await notFound(client.verifyWebAuthn({ userId, assertion: used }));

    const stale = await assertion(client, userId, key);
    clock.advance(121_000);
    await notFound(client.verifyWebAuthn({ userId, assertion: stale }));

    const registration = await client.beginWebAuthnRegistration({ userId: newUserId('x'), userName: 'x' });
    await notFound(client.verifyWebAuthn({ userId, assertion: { challengeId: registration.registrationId, credentialJson: key.assert(registration.optionsJson) } }));
    const own = await client.beginWebAuthnRegistration({ userId, userName: 'x', addAuthenticator: true });
    await notFound(client.verifyWebAuthn({ userId, assertion: { challengeId: own.registrationId, credentialJson: key.assert(own.optionsJson) } }));

    const othersChallenge = await client.beginWebAuthnAuthentication({ userId: other });
    await notFound(client.verifyWebAuthn({ userId, assertion: { challengeId: othersChallenge.challengeId, credentialJson: key.assert(othersChallenge.optionsJson) } }));
    // Nothing counted: not locked, and the other user's challenge is still theirs to use.
    expect((await client.getMfaStatus({ userId })).lockedUntil).to.equal(undefined);
    await client.verifyWebAuthn({ userId: other, assertion: { challengeId: othersChallenge.challengeId, credentialJson: otherKey.assert(othersChallenge.optionsJson) } });
    await client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) });
  });

  it('refuses a wrong origin, a wrong RP ID, another key and a bad signature as WEBAUTHN_INVALID, which counts towards the lockout only', async () => {
    const { client } = svc.current;
    const userId = newUserId('key-invalid');
    const key = newKey();
    await registerFirst(client, userId, key);
    const invalid = (call: Promise<unknown>) => expectFailure(call, status.PERMISSION_DENIED, 'WEBAUTHN_INVALID');
    key.origin = 'https://phish.example.net';
    const phished = await invalid(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) }));
    expect(phished.message).to.equal("the security key's answer is not valid");
    key.origin = ORIGIN;
    key.rpId = 'example.net';
    await invalid(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) }));
    key.rpId = RP_ID;
    // A key of another user answering this user's challenge.
    await invalid(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, newKey()) }));
    expect(svc.current.logs.join('')).to.contain('"check":"origin"');
    await invalid(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key).then((a) => ({ ...a, credentialJson: a.credentialJson.replace(/"signature":"./, '"signature":"A') })) }));
    // The fifth failure in a row (MFA_MAX_FAILED_ATTEMPTS) locks the user out of keys and codes alike.
    key.origin = 'https://phish.example.net';
    await expectFailure(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
    key.origin = ORIGIN;
    await expectFailure(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
    expect((await client.getMfaStatus({ userId })).totpSuspendedAt).to.equal(undefined);
  });

  it('logs which check a refused answer failed as a fixed label, never the live challenge the library quotes', async () => {
    const { client } = svc.current;
    const userId = newUserId('key-log');
    const key = newKey();
    await registerFirst(client, userId, key);
    /** Options whose challenge is another one: the key signs it, the service expects the one it issued. */
    const otherChallenge = (optionsJson: string) => JSON.stringify({ ...JSON.parse(optionsJson), challenge: Buffer.alloc(32, 7).toString('base64url') });
    const begun = await client.beginWebAuthnAuthentication({ userId });
    const issued = (JSON.parse(begun.optionsJson) as { challenge: string }).challenge;
    await expectFailure(
      client.verifyWebAuthn({ userId, assertion: { challengeId: begun.challengeId, credentialJson: key.assert(otherChallenge(begun.optionsJson)) } }),
      status.PERMISSION_DENIED,
      'WEBAUTHN_INVALID',
    );
    const other = newUserId('key-log-reg');
    const registration = await client.beginWebAuthnRegistration({ userId: other, userName: 'x' });
    const registrationChallenge = (JSON.parse(registration.optionsJson) as { challenge: string }).challenge;
    const credentialJson = newKey().register(otherChallenge(registration.optionsJson));
    await expectFailure(client.finishWebAuthnRegistration({ userId: other, registrationId: registration.registrationId, credentialJson }), status.PERMISSION_DENIED, 'WEBAUTHN_INVALID');
    const logs = svc.current.logs.join('');
    expect(logs).to.contain(`"userId":"${userId}","check":"challenge"`);
    expect(logs).to.contain(`"userId":"${other}","check":"challenge"`);
    expect(logs).to.not.contain(issued);
    expect(logs).to.not.contain(registrationChallenge);
  });

  it('refuses a signature counter that went backwards and records WEBAUTHN_COUNTER_REGRESSED', async () => {
    const { client } = svc.current;
    const userId = newUserId('key-counter');
    const key = newKey();
    const { finished } = await registerFirst(client, userId, key);
    key.signCount = 10;
    await client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) });
    key.signCount = 5;
    await expectFailure(client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) }), status.PERMISSION_DENIED, 'WEBAUTHN_INVALID');
    const regressed = await eventually(async () => {
      const found = (await eventsOf(stores, userId)).find((e) => e.type === 'WEBAUTHN_COUNTER_REGRESSED');
      if (found === undefined) throw new Error('no WEBAUTHN_COUNTER_REGRESSED yet');
      return found;
    }, 5000);
    expect(regressed.authenticatorId).to.equal(finished.authenticatorId);
    // A key that keeps no counter (0 every time) is fine.
    const counterless = newKey({ counterless: true });
    const other = newUserId('key-counterless');
    await registerFirst(client, other, counterless);
    await client.verifyWebAuthn({ userId: other, assertion: await assertion(client, other, counterless) });
    await client.verifyWebAuthn({ userId: other, assertion: await assertion(client, other, counterless) });
  });

  it('refuses a credential registered twice, to the same user or to another (CREDENTIAL_IN_USE)', async () => {
    const { client, clock } = svc.current;
    const userId = newUserId('key-twice');
    const key = newKey();
    await registerFirst(client, userId, key);
    const begun = await client.beginWebAuthnRegistration({ userId, userName: 'x', addAuthenticator: true });
    await expectFailure(
      client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), webauthnAssertion: await assertion(client, userId, key) }),
      status.ALREADY_EXISTS,
      'CREDENTIAL_IN_USE',
    );
    const other = await enrollUser(client, clock);
    const theirs = await client.beginWebAuthnRegistration({ userId: other.userId, userName: 'y', addAuthenticator: true });
    await expectFailure(
      client.finishWebAuthnRegistration({ userId: other.userId, registrationId: theirs.registrationId, credentialJson: key.register(theirs.optionsJson), existingCode: codeAt(other.secret, clock) }),
      status.ALREADY_EXISTS,
      'CREDENTIAL_IN_USE',
    );
    expect((await client.getMfaStatus({ userId: other.userId })).authenticators).to.equal(1);
    const first = await stores.mongo.db(stores.mongoDb).collection(CREDENTIAL_CLAIMS_COLLECTION).findOne({ _id: key.id as never });
    expect(first!['userId']).to.equal(userId);
  });

  it('answers VerifyTotp for a user with only keys INVALID_CODE; such a user adds an app with an assertion', async () => {
    const { client, clock } = svc.current;
    const userId = newUserId('key-only');
    const key = newKey();
    await registerFirst(client, userId, key);
    await expectFailure(client.verifyTotp({ userId, code: '123456' }), status.PERMISSION_DENIED, 'INVALID_CODE');
    const begun = await client.beginTotpEnrollment({ userId, addAuthenticator: true });
    const confirmed = await client.confirmTotpEnrollment({
      userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock), webauthnAssertion: await assertion(client, userId, key),
    });
    expect(confirmed.recoveryCodes).to.deep.equal([]);
    clock.advance(30_000);
    expect((await client.verifyTotp({ userId, code: codeAt(begun.secret, clock) })).authenticatorId).to.equal(begun.authenticatorId);
  });

  it('gives one success of 20 concurrent uses of one assertion over two instances; the others are CHALLENGE_NOT_FOUND and count nothing', async () => {
    const second = await startTestService({ ...stores.env, ...WEBAUTHN_ENV });
    stores.cleanups.push(() => second.stop());
    const { client } = svc.current;
    const userId = newUserId('key-race');
    const key = newKey();
    await registerFirst(client, userId, key);
    const used = await assertion(client, userId, key);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => outcomeOf((i % 2 === 0 ? client : second.client).verifyWebAuthn({ userId, assertion: used }))),
    );
    expect(outcomes.filter((o) => o === 'OK')).to.have.length(1);
    expect(outcomes.filter((o) => o !== 'OK')).to.deep.equal(Array(19).fill('NOT_FOUND/CHALLENGE_NOT_FOUND'));
    expect((await client.getMfaStatus({ userId })).lockedUntil).to.equal(undefined);
  });

  it('refuses an assertion without user verification when MFA_WEBAUTHN_USER_VERIFICATION is required', async () => {
    const strict = await startTestService({ ...stores.env, ...WEBAUTHN_ENV, MFA_WEBAUTHN_USER_VERIFICATION: 'required' });
    stores.cleanups.push(() => strict.stop());
    const userId = newUserId('key-uv');
    const key = newKey();
    await registerFirst(strict.client, userId, key);
    key.userVerified = false;
    await expectFailure(strict.client.verifyWebAuthn({ userId, assertion: await assertion(strict.client, userId, key) }), status.PERMISSION_DENIED, 'WEBAUTHN_INVALID');
    key.userVerified = true;
    expect((await strict.client.verifyWebAuthn({ userId, assertion: await assertion(strict.client, userId, key) })).userVerified).to.equal(true);
  });

  it('counts WEBAUTHN_INVALID towards lockouts only; a key restores suspended TOTP as a recovery code does', async () => {
    const strict = await startTestService({ ...stores.env, ...WEBAUTHN_ENV, MFA_MAX_FAILED_ATTEMPTS: '3', MFA_MAX_CONSECUTIVE_FAILURES: '3' });
    stores.cleanups.push(() => strict.stop());
    const { client, clock } = strict;
    const addKey = async (user: { userId: string; secret: string }) => {
      const key = newKey();
      const begun = await client.beginWebAuthnRegistration({ userId: user.userId, userName: 'ada', addAuthenticator: true });
      await client.finishWebAuthnRegistration({ userId: user.userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), existingCode: codeAt(user.secret, clock) });
      clock.advance(30_000);
      return key;
    };
    // Three bad assertions in a row: a lockout, not a suspension.
    const first = await enrollUser(client, clock);
    const key = await addKey(first);
    key.origin = 'https://phish.example.net';
    for (let i = 0; i < 2; i += 1) await expectFailure(client.verifyWebAuthn({ userId: first.userId, assertion: await assertion(client, first.userId, key) }), status.PERMISSION_DENIED, 'WEBAUTHN_INVALID');
    await expectFailure(client.verifyWebAuthn({ userId: first.userId, assertion: await assertion(client, first.userId, key) }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
    expect((await client.getMfaStatus({ userId: first.userId })).totpSuspendedAt).to.equal(undefined);

    // Three wrong codes suspend TOTP; the key's assertion restores it and ends the run.
    const second = await enrollUser(client, clock);
    const other = await addKey(second);
    for (let i = 0; i < 2; i += 1) await expectFailure(client.verifyTotp({ userId: second.userId, code: '000000' }), status.PERMISSION_DENIED, 'INVALID_CODE');
    await expectFailure(client.verifyTotp({ userId: second.userId, code: '000000' }), status.FAILED_PRECONDITION, 'TOTP_SUSPENDED');
    await client.verifyWebAuthn({ userId: second.userId, assertion: await assertion(client, second.userId, other) });
    expect((await client.getMfaStatus({ userId: second.userId })).totpSuspendedAt).to.equal(undefined);
    expect((await eventsOf(stores, second.userId)).map((e) => e.type)).to.include('TOTP_RESTORED');
    clock.advance(30_000);
    await client.verifyTotp({ userId: second.userId, code: codeAt(second.secret, clock) });
  });

  it('signs an MFA assertion after a key check (mfa_assertion_request): hwk/phrh for a hardware key, swk/phr for a synced passkey; none while assertions are off or when the check fails', async () => {
    const issuer = 'https://mfa.test.internal';
    // The suite's service has assertions off; this one, on the same stores, has them on.
    const signing = await startTestService({ ...stores.env, ...WEBAUTHN_ENV, MFA_ASSERTION_ISSUER: issuer });
    stores.cleanups.push(() => signing.stop());
    const verifier: PublicClient = createMfaClient({ address: `127.0.0.1:${signing.service.port}`, assertions: { issuer, now: () => signing.clock.now() } });
    stores.cleanups.push(async () => verifier.close());
    const transaction = Buffer.from('{"amount":"250.00","currency":"EUR"}');
    const request = { audience: 'payments', purpose: 'payments.transfer', transaction };
    const expected = { audience: 'payments', purpose: 'payments.transfer', transaction };
    const { client } = signing;

    // A key that is not backed up: hardware-bound.
    const userId = newUserId('key-assert');
    const key = newKey();
    const { finished } = await registerFirst(client, userId, key);
    const used = await assertion(client, userId, key);
    // While assertions are off the request is refused before the key is checked: the challenge stays usable.
    await expectFailure(svc.current.client.verifyWebAuthn({ userId, assertion: used, mfaAssertionRequest: request }), status.FAILED_PRECONDITION, 'ASSERTIONS_NOT_CONFIGURED');
    const verified = await client.verifyWebAuthn({ userId, assertion: used, mfaAssertionRequest: request });
    expect(verified.mfaAssertion).to.not.equal('');
    expect(verified.mfaAssertionExpiresAt).to.not.equal(undefined);
    const claims = await verifier.verifyMfaAssertion(verified.mfaAssertion, expected);
    expect(claims).to.deep.include({ sub: userId, aud: 'payments', mfa_method: 'webauthn', authenticator_id: finished.authenticatorId, acr: 'phrh', uv: true, purpose: 'payments.transfer' });
    expect(claims.amr).to.deep.equal(['hwk', 'user']);
    expect(claims.auth_time).to.equal(Math.floor(verified.verifiedAt!.getTime() / 1000));
    // Without a request, no assertion.
    expect((await client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key) })).mfaAssertion).to.equal('');

    // A synced passkey (BE and BS set), here without user verification.
    const syncedUser = newUserId('key-assert-synced');
    const passkey = newKey({ backupEligible: true, userVerified: false });
    await registerFirst(client, syncedUser, passkey);
    const synced = await client.verifyWebAuthn({ userId: syncedUser, assertion: await assertion(client, syncedUser, passkey), mfaAssertionRequest: request });
    const syncedClaims = await verifier.verifyMfaAssertion(synced.mfaAssertion, expected);
    expect(syncedClaims).to.deep.include({ sub: syncedUser, mfa_method: 'webauthn', acr: 'phr', uv: false });
    expect(syncedClaims.amr).to.deep.equal(['swk', 'user']);

    // A failed key check issues nothing.
    key.origin = 'https://phish.example.net';
    const failure = await expectFailure(
      client.verifyWebAuthn({ userId, assertion: await assertion(client, userId, key), mfaAssertionRequest: request }),
      status.PERMISSION_DENIED,
      'WEBAUTHN_INVALID',
    );
    expect(failure.message).to.not.match(/eyJ/);
    const lines = signing.logs.filter((l) => l.includes('"method":"VerifyWebAuthn"'));
    expect(lines.filter((l) => l.includes('assertionJti'))).to.have.length(2);
    expect(lines.filter((l) => l.includes('"reason":"WEBAUTHN_INVALID"'))).to.have.length(1);
    expect(lines.filter((l) => l.includes('"reason":"WEBAUTHN_INVALID"') && l.includes('assertionJti'))).to.deep.equal([]);
  });

  it('with MFA_WEBAUTHN_ATTESTATION=direct accepts a packed full attestation that chains to a configured root, and refuses others without downloading a CRL', async () => {
    // A CRL server that must never be asked.
    let crlRequests = 0;
    const crlServer = createServer((_request, response) => {
      crlRequests += 1;
      response.end();
    });
    await new Promise<void>((resolve) => crlServer.listen(0, '127.0.0.1', resolve));
    stores.cleanups.push(() => new Promise<void>((resolve) => crlServer.close(() => resolve())));
    const crlUrl = `http://127.0.0.1:${(crlServer.address() as { port: number }).port}/attestation.crl`;

    const ca = await AttestationCa.create();
    const stranger = await AttestationCa.create('Another Root');
    const rootsDir = mkdtempSync(join(tmpdir(), 'mfa-roots-'));
    stores.cleanups.push(async () => rmSync(rootsDir, { recursive: true, force: true }));
    const rootsFile = join(rootsDir, 'roots.pem');
    writeFileSync(rootsFile, ca.pem);
    const direct = await startTestService({ ...stores.env, ...WEBAUTHN_ENV, MFA_WEBAUTHN_ATTESTATION: 'direct', MFA_WEBAUTHN_ATTESTATION_ROOTS: rootsFile });
    stores.cleanups.push(() => direct.stop());
    const register = (client: MfaClient, key: SoftAuthenticator) => registerFirst(client, newUserId('key-attested'), key);

    const attested = newKey({ attestation: 'packed', attestationCertificate: await ca.issue() });
    const { begun, finished } = await register(direct.client, attested);
    expect(JSON.parse(begun.optionsJson).attestation).to.equal('direct');
    expect(finished.recoveryCodes).to.have.length(10);

    const refused = [
      ['a chain to another root', newKey({ attestation: 'packed', attestationCertificate: await stranger.issue() }), /"check":"attestation chain"/],
      ['self attestation', newKey({ attestation: 'packed' }), /"check":"self attestation"/],
      ['no attestation', newKey(), /"check":"attestation format"/],
      ['a certificate naming a CRL', newKey({ attestation: 'packed', attestationCertificate: await ca.issue({ crlUrl }) }), /"check":"attestation CRL"/],
    ] as const;
    for (const [name, key, logged] of refused) {
      await expectFailure(register(direct.client, key), status.PERMISSION_DENIED, 'WEBAUTHN_INVALID').catch((error: Error) => {
        throw new Error(`${name}: ${error.message}`);
      });
      expect(direct.logs.some((l) => l.includes("registration was refused") && logged.test(l)), `${name} logged`).to.equal(true);
    }

    // With attestation none, a full attestation is not examined: accepted, and its CRL not downloaded either.
    await register(svc.current.client, newKey({ attestation: 'packed', attestationCertificate: await stranger.issue({ crlUrl }) }));
    expect(crlRequests).to.equal(0);
  });

  it('answers WEBAUTHN_NOT_CONFIGURED without the settings', async () => {
    const bare = await startTestService(stores.env);
    stores.cleanups.push(() => bare.stop());
    const userId = newUserId('key-unset');
    await expectFailure(bare.client.beginWebAuthnRegistration({ userId, userName: 'x' }), status.FAILED_PRECONDITION, 'WEBAUTHN_NOT_CONFIGURED');
    await expectFailure(bare.client.beginWebAuthnAuthentication({ userId }), status.FAILED_PRECONDITION, 'WEBAUTHN_NOT_CONFIGURED');
    const user = await enrollUser(bare.client, bare.clock);
    await expectFailure(
      bare.client.disableMfa({ userId: user.userId, webauthnAssertion: { challengeId: 'wch_x', credentialJson: '{"id":"x"}' } }),
      status.FAILED_PRECONDITION,
      'WEBAUTHN_NOT_CONFIGURED',
    );
  });
});
