import { Writable } from 'node:stream';
import { expect } from 'chai';
import { ReplyError } from 'ioredis';
import { MongoServerError } from 'mongodb';
import { MfaError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/logger.js';

const SEALED = 'v1.k1.c2VhbGVkLXNlY3JldA';

/** Logs one line at error level and returns it as text. */
function logged(fields: Record<string, unknown>): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  createLogger('info', sink).error(fields, 'failed');
  expect(lines).to.have.length(1);
  return lines[0]!;
}

function redisError(): Error {
  const error = new (ReplyError as new (message: string) => Error)("OOM command not allowed when used memory > 'maxmemory'.");
  return Object.assign(error, { command: { name: 'set', args: ['mfa:{alice}:enrollment', JSON.stringify({ i: 'enr_1', s: SEALED })] } });
}

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

    it('still redacts secrets and what store errors carry', () => {
      const { logger, text } = capture('pretty');
      logger.info({ secret: 'JBSWY3DPEHPK3PXP', request: { recoveryCode: 'ABCDE-FGHJK' }, err: redisError() }, 'oops');
      expect(text()).to.not.contain('JBSWY3DPEHPK3PXP');
      expect(text()).to.not.contain('ABCDE-FGHJK');
      expect(text()).to.not.contain(SEALED);
      expect(text()).to.contain('[redacted]');
    });
  });

  context('when an ioredis error with its command is logged', () => {
    const cases: Array<[string, () => Record<string, unknown>, string]> = [
      ['as err', () => ({ err: redisError() }), 'OOM command not allowed'],
      ['as the cause of an MfaError', () => ({ err: new MfaError('STORE_UNAVAILABLE', 'store unavailable; retry later', { cause: redisError() }) }), 'OOM command not allowed'],
      ["as a cluster error's lastNodeError", () => ({ err: Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: redisError() }) }), 'OOM command not allowed'],
      ['inside an AggregateError', () => ({ err: new AggregateError([redisError()], 'all failed') }), 'OOM command not allowed'],
      ['nested in a plain object under another key', () => ({ failure: { cause: redisError() } }), '"name":"set"'],
    ];
    for (const [where, fields, kept] of cases) {
      it(`keeps what failed but never the command's arguments (${where})`, () => {
        const line = logged(fields());
        expect(line).to.contain(kept);
        expect(line).to.not.contain(SEALED);
        expect(line).to.not.contain('mfa:{alice}');
      });
    }
  });

  context('when a MongoDB server error carrying document values is logged', () => {
    it('leaves out the reply and the values, and keeps the message and code', () => {
      const error = new MongoServerError({
        errmsg: 'E11000 duplicate key error',
        code: 11000,
        keyValue: { sealedSecret: SEALED },
        errInfo: { failingDocument: { s: SEALED } },
      });
      const line = logged({ err: error });
      expect(line).to.contain('E11000 duplicate key error').and.contain('"code":11000');
      expect(line).to.not.contain(SEALED);
    });
  });
});
