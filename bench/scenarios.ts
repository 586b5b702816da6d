import { codeOf, enrollUser, type BenchUser } from './bench-users.js';
import { UnexpectedAnswer, WorkExhausted } from './load-loop.js';
import type { MfaAssertionRequest } from '../src/gen/mfa/v1/mfa.js';
import { loginWithKey, type KeyUser } from './key-users.js';
import type { MfaCalls } from './mfa-calls.js';
import type { ScenarioName } from './options.js';
import type { StoreFloor } from './store-floor.js';
import type { TotpTicket, TotpTickets } from './totp-tickets.js';

/** What the scenarios share: the calls, the users enrolled at setup and their unspent TOTP codes. */
export interface ScenarioContext {
  readonly calls: MfaCalls;
  readonly users: readonly BenchUser[];
  /** The users whose one authenticator is a software security key (verify_webauthn). */
  readonly keyUsers: readonly KeyUser[];
  readonly tickets: TotpTickets;
  /** A user id never used before in this run or any other (the run id is part of it). */
  readonly freshUserId: (label: string) => string;
  /** The store floors' clients, once opened (real stores only). */
  floor: StoreFloor | null;
}

/** A scenario's unit of work: one request as the table counts it. */
export type ScenarioCall = () => Promise<unknown>;

/** The call a scenario repeats; it rejects with the ServiceError of a failed call or an UnexpectedAnswer. */
export function scenarioCall(name: ScenarioName, context: ScenarioContext): ScenarioCall {
  const { calls, users } = context;
  let next = 0;
  const roundRobin = <T>(items: readonly T[]): T => items[next++ % items.length]!;
  switch (name) {
    case 'health':
      return async () => {
        const { status } = await calls.health();
        if (status !== 'SERVING' && status !== 1) throw new UnexpectedAnswer(`health ${String(status)}`);
      };
    case 'verify_totp':
      return () => verifyNextCode(context);
    case 'verify_totp_assert':
      // The same logins, each asking for an MFA assertion (issue 25): the cost of signing one.
      return () => verifyNextCode(context, false, BENCH_ASSERTION_REQUEST);
    case 'verify_webauthn': {
      // One request is the pair BeginWebAuthnAuthentication + VerifyWebAuthn, as enroll counts its two calls.
      if (context.keyUsers.length === 0) throw new Error('verify_webauthn needs users with a security key (setup registered none)');
      return () => loginWithKey(calls, roundRobin(context.keyUsers));
    }
    case 'check_session':
      return () => calls.checkSession(roundRobin(users).userId, new Date());
    case 'check_device': {
      const holders = users.filter((user) => user.deviceToken !== null);
      if (holders.length === 0) throw new Error('check_device needs users with a remembered device (setup made none)');
      return async () => {
        const user = roundRobin(holders);
        const answer = await calls.checkRememberedDevice(user.userId, user.deviceToken!);
        if (!answer.remembered) throw new UnexpectedAnswer('NOT_REMEMBERED');
      };
    }
    case 'floor_verify':
    case 'floor_device': {
      const floor = context.floor;
      if (floor === null) throw new Error(`${name} needs the store floor opened first`);
      return name === 'floor_verify' ? () => floor.verify() : () => floor.checkDevice();
    }
    case 'enroll':
      // One request is the pair BeginTotpEnrollment + ConfirmTotpEnrollment for a new user.
      return () => enrollUser(calls, context.freshUserId('enroll'));
  }
}

/** verify_totp_assert's request: a payment's audience, purpose and a transaction of a typical size. */
export const BENCH_ASSERTION_REQUEST: MfaAssertionRequest = {
  audience: 'payments',
  purpose: 'payments.transfer',
  transaction: Buffer.from('{"amount":"250.00","currency":"EUR","payee":"DE89370400440532013000"}'),
};

/** One successful VerifyTotp: the next unspent code; `rememberDevice` keeps the token on the user; with `assertion`, one must come back. */
export async function verifyNextCode(context: ScenarioContext, rememberDevice = false, assertion?: MfaAssertionRequest): Promise<void> {
  const ticket = context.tickets.take();
  if (ticket === null) throw new WorkExhausted('every enrolled user\'s usable TOTP codes were spent: raise --users');
  await verifyTicket(context.calls, ticket, rememberDevice, assertion);
}

/** The VerifyTotp of `ticket`: its user's code of its step. */
export async function verifyTicket(calls: MfaCalls, { user, step }: TotpTicket, rememberDevice = false, assertion?: MfaAssertionRequest): Promise<void> {
  // Steps must reach the server in order: each call waits for the user's latest one (almost always long done),
  // so that two calls waiting on the same one do not race.
  const send = () => calls.verifyTotp(user.userId, codeOf(user, step), rememberDevice, assertion);
  const call = user.inFlight === null ? send() : user.inFlight.catch(() => {}).then(send);
  user.inFlight = call;
  try {
    const answer = await call;
    if (assertion !== undefined && answer.mfaAssertion === '') throw new UnexpectedAnswer('NO_ASSERTION');
    user.copyCurrent = !rememberDevice;
    if (rememberDevice) user.deviceToken = answer.deviceToken;
  } finally {
    if (user.inFlight === call) user.inFlight = null;
  }
}
