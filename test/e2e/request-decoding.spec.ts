import { status } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, ScalarType } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { expect } from 'chai';
import { DESCRIPTOR_SET_BASE64 } from '../../src/gen/descriptor-set.js';
import { CheckSessionResponse, GetMfaStatusResponse } from '../../src/gen/mfa/v1/mfa.js';
import { codeAt, enrollUser } from '../support/e2e-fixture.js';
import { bearer, connectClient, expectFailure } from '../support/grpc-client.js';
import { callRaw, rawMessage, utf8With } from '../support/raw-client.js';
import { startTestService, type TestService } from '../support/test-service.js';

const TOKEN = 'decoding-token-0123456789abcdef';
const services = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(DESCRIPTOR_SET_BASE64, 'base64')));
const mfaService = services.getService('mfa.v1.MfaService')!;

// On the embedded stores: what is tested is the decoding in front of the service, not the stores.
describe('Requests the generated client cannot send (gRPC, in-memory stores)', () => {
  let svc: TestService;
  const call = (method: string, request: Uint8Array) => callRaw(svc.service.port, method, request, bearer(TOKEN));

  before(async () => {
    // An admin caller, so that the admin RPCs get as far as their request too.
    svc = await startTestService({ MFA_AUTH_TOKENS: `support:${TOKEN}`, MFA_ADMIN_CALLERS: 'support', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
  });
  after(() => svc?.stop());

  describe('a string field with invalid UTF-8', () => {
    for (const method of mfaService.methods) {
      for (const field of method.input.fields.filter((f) => f.scalar === ScalarType.STRING)) {
        it(`fails ${method.name} INVALID_ARGUMENT with reason INVALID_REQUEST and a BadRequest naming ${field.name}`, async () => {
          const failure = await expectFailure(
            call(method.name, rawMessage({ number: field.number, bytes: utf8With('coll', 0xff) })),
            status.INVALID_ARGUMENT,
            'INVALID_REQUEST',
          );
          expect(failure.badFields).to.deep.equal([field.name]);
        });
      }
    }

    it('names every bad field once, also a field sent twice', async () => {
      const request = rawMessage(
        { number: 1, bytes: utf8With('a', 0xfe) },
        { number: 2, bytes: utf8With('enr_', 0xc3) },
        { number: 3, bytes: utf8With('12345', 0x80) },
        { number: 1, bytes: utf8With('b', 0xff) },
      );
      const failure = await expectFailure(call('ConfirmTotpEnrollment', request), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect(failure.badFields).to.deep.equal(['user_id', 'enrollment_id', 'code']);
    });

    it('rejects a UTF-16 surrogate encoded in UTF-8 (ED A0 80)', async () => {
      const failure = await expectFailure(call('GetMfaStatus', rawMessage({ number: 1, bytes: utf8With('coll', 0xed, 0xa0, 0x80) })), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect(failure.badFields).to.deep.equal(['user_id']);
    });

    it('never reaches the user whose id the bytes would decode to with U+FFFD: wrong codes sent as coll\\xFE do not lock coll\\uFFFD', async () => {
      const client = connectClient(svc.service.port, { metadata: () => bearer(TOKEN) });
      try {
        const user = await enrollUser(client, svc.clock, `coll\uFFFD-${process.pid}`);
        const idBytes = Buffer.from(user.userId, 'utf8');
        const aliased = Buffer.concat([Buffer.from('coll'), Buffer.from([0xfe]), idBytes.subarray(Buffer.from('coll\uFFFD').length)]);
        for (let i = 0; i < 6; i += 1) {
          const failure = await expectFailure(
            call('VerifyTotp', rawMessage({ number: 1, bytes: aliased }, { number: 2, bytes: Buffer.from('000000') })),
            status.INVALID_ARGUMENT,
            'INVALID_REQUEST',
          );
          expect(failure.badFields).to.deep.equal(['user_id']);
        }
        const found = GetMfaStatusResponse.decode(await call('GetMfaStatus', rawMessage({ number: 1, bytes: idBytes })));
        expect(found.enabled).to.equal(true);
        expect(found.lockedUntil).to.equal(undefined);
        await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, svc.clock) });
      } finally {
        client.close();
      }
    });
  });

  describe('a Timestamp out of range', () => {
    const userId = { number: 1, bytes: Buffer.from('alice') };
    const invalidCheckSessions = async () => {
      const text = await (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
      const line = /grpc_server_handled_total\{grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="CheckSession",grpc_code="INVALID_ARGUMENT"\} (\d+)/.exec(text);
      return Number(line?.[1] ?? 0);
    };
    for (const [what, seconds, nanos] of [
      ['seconds = 2^62', 2n ** 62n, 0],
      ['seconds = -2^62', -(2n ** 62n), 0],
      ['10000-01-01T00:00:00Z', 253_402_300_800n, 0],
      ['one second before 0001-01-01', -62_135_596_801n, 0],
      ['negative nanos', 0n, -1],
      ['nanos = 1,000,000,000', 0n, 1_000_000_000],
    ] as const) {
      it(`fails CheckSession INVALID_ARGUMENT naming session_issued_at for ${what}, logged and counted like any call`, async () => {
        const countedBefore = await invalidCheckSessions();
        const failure = await expectFailure(
          call('CheckSession', rawMessage(userId, { number: 2, seconds, nanos })),
          status.INVALID_ARGUMENT,
          'INVALID_REQUEST',
        );
        expect(failure.badFields).to.deep.equal(['session_issued_at']);
        const line = svc.logs.filter((l) => l.includes('"method":"CheckSession"')).at(-1);
        expect(line).to.contain('"grpcCode":"INVALID_ARGUMENT"').and.contain('"reason":"INVALID_REQUEST"');
        expect(await invalidCheckSessions()).to.equal(countedBefore + 1);
      });
    }

    for (const [what, seconds, nanos] of [
      ['0001-01-01T00:00:00Z', -62_135_596_800n, 0],
      ['9999-12-31T23:59:59.999999999Z', 253_402_300_799n, 999_999_999],
    ] as const) {
      it(`accepts the edge of the range, ${what}`, async () => {
        const checked = CheckSessionResponse.decode(await call('CheckSession', rawMessage(userId, { number: 2, seconds, nanos })));
        expect(checked.revoked).to.equal(false);
      });
    }
  });

  describe('bytes that are not protobuf', () => {
    it('fails INVALID_ARGUMENT naming the field whose bytes end early, not INTERNAL', async () => {
      const failure = await expectFailure(call('GetMfaStatus', Buffer.from([0x0a, 0x05, 0x61])), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect(failure.badFields).to.deep.equal(['user_id']);
    });
  });
});
