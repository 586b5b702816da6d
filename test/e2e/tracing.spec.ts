import { randomBytes } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { generateTotp } from '../../src/domain/totp.js';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { connectClient, expectFailure, type MfaClient } from '../support/grpc-client.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { status } from '@grpc/grpc-js';

const TOKEN = 'tracing-login-token-0123456789abcdef';
const SERVER = 2;

/** A W3C trace context of a caller: the parent of the call's server span. */
interface CallerContext {
  readonly traceId: string;
  readonly parentSpanId: string;
}

describe('Tracing (OpenTelemetry, OTLP/HTTP, real stores)', function () {
  this.timeout(120_000);
  const stores = useRealStores();
  let receiver: OtlpReceiver;
  let service: ServiceProcess;
  let client: MfaClient;
  /** Each call's method and the caller context it carried. */
  const calls: Array<{ method: string; caller: CallerContext }> = [];
  /** Everything secret the lifecycle handled: none of it may appear in a span. */
  const secrets = new Set<string>([TOKEN]);
  const userId = newUserId('traced');

  /** Calls `method` with a fresh traceparent and the bearer token. */
  async function traced<T>(method: string, call: (metadata: Metadata) => Promise<T>): Promise<T> {
    const caller = { traceId: randomBytes(16).toString('hex'), parentSpanId: randomBytes(8).toString('hex') };
    calls.push({ method, caller });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    metadata.set('traceparent', `00-${caller.traceId}-${caller.parentSpanId}-01`);
    return call(metadata);
  }

  /** String values of at least 8 characters in the user's stored state: sealed secret, code hashes, device token hashes. */
  async function storedValues(): Promise<string[]> {
    const found: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string' && value.length >= 8 && value !== userId) found.push(value);
      else if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object' && !(value instanceof Date)) Object.values(value).forEach(walk);
    };
    walk(await stores.mongo.db(stores.mongoDb).collection('mfa_factors').findOne({ _id: userId as never }));
    for (const key of await stores.redis.keys(`${stores.keyPrefix}*${userId}*`)) {
      const type = await stores.redis.type(key);
      if (type === 'string') walk(await stores.redis.get(key));
      if (type === 'hash') walk(Object.values(await stores.redis.hgetall(key)));
    }
    return found;
  }

  before(async () => {
    receiver = await startOtlpReceiver();
    service = await startServiceProcess({
      ...stores.env,
      MFA_AUTH_TOKENS: `login-service:${TOKEN}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_FORMAT: 'json',
    });
    stores.cleanups.push(async () => {
      await service.stop();
      await receiver.close();
    });
    client = connectClient(service.port);
    stores.cleanups.push(async () => client.close());

    // A whole lifecycle. The server runs on the real clock, and a code of the
    // next or the last period is accepted (one period of drift), so three
    // successive periods give three fresh codes without waiting.
    const code = (periods: number) => generateTotp(secret, new Date(Date.now() + periods * 30_000));
    const begun = await traced('BeginTotpEnrollment', (m) => client.beginTotpEnrollment({ userId, accountName: 'traced@example.com' }, m));
    const secret = begun.secret;
    secrets.add(secret);
    for (const value of await storedValues()) secrets.add(value); // the pending enrollment in Redis
    const confirmCode = code(-1);
    const confirmed = await traced('ConfirmTotpEnrollment', (m) =>
      client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: confirmCode }, m),
    );
    const verifyCode = code(0);
    const verified = await traced('VerifyTotp', (m) =>
      client.verifyTotp({ userId, code: verifyCode, rememberDevice: true, deviceLabel: 'Traced laptop' }, m),
    );
    await traced('VerifyTotp', (m) => expectFailure(client.verifyTotp({ userId, code: verifyCode }, m), status.PERMISSION_DENIED, 'CODE_REUSED'));
    await traced('CheckRememberedDevice', (m) => client.checkRememberedDevice({ userId, deviceToken: verified.deviceToken }, m));
    await traced('VerifyRecoveryCode', (m) => client.verifyRecoveryCode({ userId, recoveryCode: confirmed.recoveryCodes[0]! }, m));
    const regenerateCode = code(1);
    const regenerated = await traced('RegenerateRecoveryCodes', (m) => client.regenerateRecoveryCodes({ userId, code: regenerateCode }, m));
    for (const value of await storedValues()) secrets.add(value); // sealed secret, code and device token hashes
    await traced('DisableMfa', (m) => client.disableMfa({ userId, code: regenerated.recoveryCodes[0]! }, m));
    for (const value of [confirmCode, verifyCode, regenerateCode, verified.deviceToken, ...confirmed.recoveryCodes, ...regenerated.recoveryCodes]) {
      secrets.add(value);
      secrets.add(value.replace('-', '')); // recovery codes are accepted without the hyphen too
    }

    // The batch span processor sends every 100 ms; wait until every call's span is in.
    const deadline = Date.now() + 20_000;
    while (!calls.every(({ caller }) => receiver.spans.some((s) => s.traceId === caller.traceId && s.kind === SERVER))) {
      if (Date.now() > deadline) throw new Error(`spans missing after 20 s; received ${receiver.spans.map((s) => s.name).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // the stores' spans of the last call
  });

  /** The server span of a call. */
  const serverSpan = (caller: CallerContext): ReceivedSpan => {
    const found = receiver.spans.filter((s) => s.traceId === caller.traceId && s.kind === SERVER);
    expect(found, `server spans of trace ${caller.traceId}`).to.have.length(1);
    return found[0]!;
  };

  /** True when `span` descends from `ancestor` through spans that were received. */
  const descendsFrom = (span: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
    for (let parent = span.parentSpanId; parent !== ''; ) {
      if (parent === ancestor.spanId) return true;
      parent = receiver.spans.find((s) => s.spanId === parent)?.parentSpanId ?? '';
    }
    return false;
  };

  it("makes one server span per RPC that continues the caller's trace as a child of the caller's span", () => {
    for (const { method, caller } of calls) {
      const span = serverSpan(caller);
      expect(span.name, method).to.equal(`grpc.mfa.v1.MfaService/${method}`);
      expect(span.parentSpanId, method).to.equal(caller.parentSpanId);
      expect(span.attributes).to.deep.include({ 'rpc.service': 'mfa.v1.MfaService', 'rpc.method': method });
    }
  });

  it('records the status code of a failed call on its span', () => {
    const failed = calls.filter((c) => c.method === 'VerifyTotp').map((c) => serverSpan(c.caller));
    expect(failed.map((s) => s.attributes['rpc.grpc.status_code'])).to.deep.equal([status.OK, status.PERMISSION_DENIED]);
  });

  it('puts Redis and MongoDB spans under the span of the RPC that made them', () => {
    for (const method of ['ConfirmTotpEnrollment', 'VerifyTotp', 'RegenerateRecoveryCodes']) {
      const { caller } = calls.find((c) => c.method === method)!;
      const rpc = serverSpan(caller);
      const stores = receiver.spans.filter((s) => s.traceId === caller.traceId && s !== rpc);
      const systems = new Set(stores.map((s) => s.attributes['db.system.name'] ?? s.attributes['db.system']));
      expect([...systems], method).to.include.members(['redis', 'mongodb']);
      for (const span of stores) expect(descendsFrom(span, rpc), `${span.name} under ${method}`).to.equal(true);
    }
  });

  it("writes the call's trace_id and span_id into its log line", () => {
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"rpc"'))
      .map((line) => JSON.parse(line) as Record<string, string>);
    for (const { method, caller } of calls) {
      const line = lines.find((l) => l['trace_id'] === caller.traceId);
      expect(line, `log line of ${method}`).to.not.equal(undefined);
      expect(line).to.deep.include({ method, span_id: serverSpan(caller).spanId });
    }
  });

  it('never puts a secret, code, recovery code, token, hash or sealed value in a span', () => {
    expect(receiver.spans.length).to.be.greaterThan(calls.length);
    // The check below has to be able to fail: the stored state gave it the sealed secret and the hashes.
    expect([...secrets].some((s) => /^v1\./.test(s)), 'a sealed value among the secrets looked for').to.equal(true);
    for (const span of receiver.spans) {
      const text = span.texts.join('\n');
      for (const secret of secrets) expect(text, `span ${span.name}`).to.not.contain(secret);
      // Any sealed value, `v1.<keyId>.<iv>.<ciphertext+tag>`, not only this user's.
      expect(text, `span ${span.name}`).to.not.match(/\bv1\.[\w-]+\.[\w-]{8,}\.[\w-]{8,}/);
    }
  });
});
