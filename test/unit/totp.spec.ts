import { expect } from 'chai';
import { encodeSecret, generateTotp, matchTotp, otpauthUri, timeStepAt } from '../../src/domain/totp.js';

// RFC 6238 Appendix B: the SHA1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP', () => {
  describe('generateTotp', () => {
    it('matches the RFC 6238 test vectors (last 6 of the 8 digits)', () => {
      expect(generateTotp(RFC_SECRET, new Date(59_000))).to.equal('287082');
      expect(generateTotp(RFC_SECRET, new Date(1_111_111_109_000))).to.equal('081804');
      expect(generateTotp(RFC_SECRET, new Date(2_000_000_000_000))).to.equal('279037');
    });
  });

  describe('matchTotp', () => {
    const now = new Date(1_111_111_109_000);
    const step = timeStepAt(now);

    it('returns the time step of the current code', () => {
      expect(matchTotp(RFC_SECRET, generateTotp(RFC_SECRET, now), now)).to.equal(step);
    });

    it('accepts one step of drift either side', () => {
      expect(matchTotp(RFC_SECRET, generateTotp(RFC_SECRET, new Date(now.getTime() - 30_000)), now)).to.equal(step - 1);
      expect(matchTotp(RFC_SECRET, generateTotp(RFC_SECRET, new Date(now.getTime() + 30_000)), now)).to.equal(step + 1);
    });

    it('refuses codes two steps away and wrong codes', () => {
      expect(matchTotp(RFC_SECRET, generateTotp(RFC_SECRET, new Date(now.getTime() - 60_000)), now)).to.equal(null);
      expect(matchTotp(RFC_SECRET, generateTotp(RFC_SECRET, new Date(now.getTime() + 60_000)), now)).to.equal(null);
      const wrong = generateTotp(RFC_SECRET, now) === '000000' ? '000001' : '000000';
      expect(matchTotp(RFC_SECRET, wrong, now)).to.equal(null);
    });
  });

  describe('matchTotp when two steps of the window share a code', () => {
    // RFC 6238's SHA1 seed shows 963181 at both steps 59061240 and 59061241.
    const atStep = (step: number) => new Date(step * 30_000);

    it('returns the newest step that shows the code', () => {
      expect(matchTotp(RFC_SECRET, '963181', atStep(59_061_239))).to.equal(59_061_240);
      expect(matchTotp(RFC_SECRET, '963181', atStep(59_061_240))).to.equal(59_061_241);
      expect(matchTotp(RFC_SECRET, '963181', atStep(59_061_241))).to.equal(59_061_241);
      expect(matchTotp(RFC_SECRET, '963181', atStep(59_061_242))).to.equal(59_061_241);
      expect(matchTotp(RFC_SECRET, '963181', atStep(59_061_243))).to.equal(null);
    });
  });

  describe('otpauthUri', () => {
    it('names issuer, account, secret, algorithm, digits and period', () => {
      const secret = encodeSecret(RFC_SECRET);
      const uri = new URL(otpauthUri({ issuer: 'Acme Co', accountName: 'ada:lovelace@example.com', secret }));
      expect(uri.protocol).to.equal('otpauth:');
      expect(uri.host).to.equal('totp');
      expect(decodeURIComponent(uri.pathname)).to.equal('/Acme Co:ada:lovelace@example.com');
      expect(uri.pathname).to.contain('Acme%20Co:ada%3Alovelace%40example.com');
      expect(Object.fromEntries(uri.searchParams)).to.deep.equal({
        secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
        issuer: 'Acme Co',
        algorithm: 'SHA1',
        digits: '6',
        period: '30',
      });
      expect(uri.search).to.not.contain('+');
    });
  });
});
