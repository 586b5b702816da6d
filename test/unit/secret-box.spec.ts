import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Keyring, parseKeyring } from '../../src/domain/keyring.js';
import { SecretBox, totpSecretContext } from '../../src/domain/secret-box.js';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('SecretBox', () => {
  const secret = Buffer.from('12345678901234567890');

  it('opens what it sealed, and the sealed form does not contain the secret', () => {
    const box = new SecretBox(new Keyring([key('k1')]), randomBytes);
    const sealed = box.seal(secret, totpSecretContext('alice', 'aut_aaaaaaaaaaaaaaaa'));
    expect(sealed).to.match(/^v1\.k1\./);
    expect(sealed).to.not.contain(secret.toString('base64url'));
    expect(box.open(sealed, totpSecretContext('alice', 'aut_aaaaaaaaaaaaaaaa'))).to.deep.equal(secret);
  });

  it('refuses to open a secret under another user (associated data)', () => {
    const box = new SecretBox(new Keyring([key('k1')]), randomBytes);
    const sealed = box.seal(secret, totpSecretContext('alice', 'aut_aaaaaaaaaaaaaaaa'));
    expect(() => box.open(sealed, totpSecretContext('mallory', 'aut_aaaaaaaaaaaaaaaa'))).to.throw();
  });

  it('refuses to open a secret under another authenticator of the same user', () => {
    const box = new SecretBox(new Keyring([key('k1')]), randomBytes);
    const sealed = box.seal(secret, totpSecretContext('alice', 'aut_aaaaaaaaaaaaaaaa'));
    expect(() => box.open(sealed, totpSecretContext('alice', 'aut_bbbbbbbbbbbbbbbb'))).to.throw();
  });

  it('detects tampering', () => {
    const box = new SecretBox(new Keyring([key('k1')]), randomBytes);
    const parts = box.seal(secret, 'ctx').split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'ctx')).to.throw();
  });

  it('seals with the first key and opens with any key of the ring (rotation)', () => {
    const old = key('old');
    const fresh = key('new');
    const sealedWithOld = new SecretBox(new Keyring([old]), randomBytes).seal(secret, 'ctx');
    const rotated = new SecretBox(new Keyring([fresh, old]), randomBytes);
    expect(rotated.open(sealedWithOld, 'ctx')).to.deep.equal(secret);
    expect(rotated.seal(secret, 'ctx')).to.match(/^v1\.new\./);
    expect(() => new SecretBox(new Keyring([fresh]), randomBytes).open(sealedWithOld, 'ctx')).to.throw(/no longer has/);
  });
});

describe('parseKeyring', () => {
  const b64 = randomBytes(32).toString('base64');

  it('reads id:base64key pairs, first one current', () => {
    const ring = parseKeyring(`a:${b64}, b:${randomBytes(32).toString('base64')}`);
    expect(ring.currentId).to.equal('a');
    expect(ring.key('b')).to.have.length(32);
  });

  for (const [text, pattern] of [
    ['', /empty/],
    ['nocolon', /not id:base64key/],
    [`a:${randomBytes(16).toString('base64')}`, /32 bytes/],
    ['a:not base64!', /not base64/],
    [`a:${b64},a:${b64}`, /twice/],
    [`bad id:${b64}`, /key id/],
  ] as const) {
    it(`rejects ${JSON.stringify(text.slice(0, 12))} with a one-line reason that hides the key`, () => {
      expect(() => parseKeyring(text)).to.throw(pattern).with.property('message').that.does.not.contain(b64);
    });
  }
});
