import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Keyring } from '../../src/domain/keyring.js';
import { normalizeRecoveryCode, RECOVERY_CODE_COUNT, RecoveryCodes } from '../../src/domain/recovery-codes.js';

describe('RecoveryCodes', () => {
  const keyring = new Keyring([{ id: 'k1', key: randomBytes(32) }]);
  const codes = new RecoveryCodes(keyring, randomBytes);

  it('issues 10 distinct XXXXX-XXXXX codes and stores only their hashes', () => {
    const { codes: issued, set } = codes.issue('alice');
    expect(issued).to.have.length(RECOVERY_CODE_COUNT);
    expect(new Set(issued).size).to.equal(RECOVERY_CODE_COUNT);
    for (const code of issued) expect(code).to.match(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    expect(set.keyId).to.equal('k1');
    const stored = JSON.stringify(set);
    for (const code of issued) {
      expect(stored).to.not.contain(code);
      expect(stored).to.not.contain(code.replace('-', ''));
    }
  });

  it('hashes a typed code to its stored hash, bound to the user', () => {
    const { codes: issued, set } = codes.issue('alice');
    const typed = normalizeRecoveryCode(issued[3]!.toLowerCase().replace('-', ' - '))!;
    expect(set.hashes).to.include(codes.hash('alice', 'k1', typed));
    expect(set.hashes).to.not.include(codes.hash('bob', 'k1', typed));
    expect(() => codes.hash('alice', 'gone', typed)).to.throw('key "gone", which MFA_ENCRYPTION_KEYS no longer has');
  });

  describe('normalizeRecoveryCode', () => {
    it('ignores case, spaces and hyphens, and folds look-alike letters', () => {
      expect(normalizeRecoveryCode(' abcde-fghjk ')).to.equal('ABCDEFGHJK');
      expect(normalizeRecoveryCode('O1234 l6789')).to.equal('0123416789');
    });

    it('rejects what cannot be a code', () => {
      expect(normalizeRecoveryCode('ABCDE-FGHJ')).to.equal(null);
      expect(normalizeRecoveryCode('ABCDE-FGHJU')).to.equal(null);
      expect(normalizeRecoveryCode('ABCDE_FGHJK')).to.equal(null);
    });
  });
});
