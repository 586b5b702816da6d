import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';

/** A logger of the given format writing into a string. */
function capture(format: 'json' | 'pretty'): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { logger: createLogger('info', sink, format), text: () => text };
}

describe('createLogger', () => {
  it('writes one JSON object a line by default', () => {
    const { logger, text } = capture('json');
    logger.info({ method: 'VerifyTotp', grpcCode: 'OK' }, 'rpc');
    expect(JSON.parse(text())).to.deep.include({ msg: 'rpc', method: 'VerifyTotp', grpcCode: 'OK', level: 30 });
  });

  context('with the pretty format', () => {
    it('writes a readable line, not JSON, with the level, the message and the fields', () => {
      const { logger, text } = capture('pretty');
      logger.info({ method: 'VerifyTotp', grpcCode: 'OK' }, 'rpc');
      const out = text();
      expect(() => JSON.parse(out)).to.throw();
      expect(out).to.match(/INFO.*rpc/);
      expect(out).to.contain('"method":"VerifyTotp"');
    });

    it('still redacts secrets', () => {
      const { logger, text } = capture('pretty');
      logger.info({ secret: 'JBSWY3DPEHPK3PXP', request: { recoveryCode: 'ABCDE-FGHJK' } }, 'oops');
      expect(text()).to.not.contain('JBSWY3DPEHPK3PXP');
      expect(text()).to.not.contain('ABCDE-FGHJK');
      expect(text()).to.contain('[redacted]');
    });
  });
});
