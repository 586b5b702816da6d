import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { methodClaims, transactionHash, type AssertionBinding } from '../../src/domain/mfa-assertion-claims.js';

describe('MFA assertion claims (issue 25)', () => {
  const authTime = new Date('2026-12-07T12:00:00.700Z');
  const binding: AssertionBinding = { audience: 'payments', purpose: 'payments.transfer', transaction: null };

  it('names a TOTP code otp, with its authenticator, and no acr or uv', () => {
    expect(methodClaims('alice', { method: 'totp', authenticatorId: 'aut_aaaaaaaaaaaaaaaa', authTime }, binding)).to.deep.equal({
      sub: 'alice',
      auth_time: Math.floor(authTime.getTime() / 1000),
      amr: ['otp'],
      mfa_method: 'totp',
      authenticator_id: 'aut_aaaaaaaaaaaaaaaa',
      purpose: 'payments.transfer',
    });
  });

  it('names a recovery code otp, without an authenticator_id', () => {
    const claims = methodClaims('alice', { method: 'recovery_code', authenticatorId: null, authTime }, binding);
    expect(claims).to.include({ mfa_method: 'recovery_code' });
    expect(claims.amr).to.deep.equal(['otp']);
    expect(claims).to.not.have.any.keys('authenticator_id', 'acr', 'uv');
  });

  it('names a security key that is not backed up hwk + user, acr phrh, with uv', () => {
    const claims = methodClaims('alice', { method: 'webauthn', authenticatorId: 'cred-1', authTime, userVerified: true, backedUp: false }, binding);
    expect(claims).to.deep.include({ amr: ['hwk', 'user'], acr: 'phrh', uv: true, mfa_method: 'webauthn', authenticator_id: 'cred-1' });
  });

  it('names a synced passkey (backed up) swk + user, acr phr, and says when the user was not verified', () => {
    const claims = methodClaims('alice', { method: 'webauthn', authenticatorId: 'cred-2', authTime, userVerified: false, backedUp: true }, binding);
    expect(claims).to.deep.include({ amr: ['swk', 'user'], acr: 'phr', uv: false });
  });

  it('binds a transaction by the base64url SHA-256 of its bytes, and none when none was given', () => {
    const transaction = Buffer.from('{"amount":"100.00","payee":"DE89370400440532013000"}');
    const claims = methodClaims('alice', { method: 'totp', authenticatorId: 'aut_aaaaaaaaaaaaaaaa', authTime }, { ...binding, transaction });
    expect(claims.txn_hash).to.equal(createHash('sha256').update(transaction).digest('base64url'));
    expect(transactionHash(Buffer.concat([transaction, Buffer.from(' ')]))).to.not.equal(claims.txn_hash);
    expect(methodClaims('alice', { method: 'totp', authenticatorId: 'x', authTime }, binding)).to.not.have.property('txn_hash');
  });
});
