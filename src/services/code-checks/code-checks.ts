import { ErrorReason } from '../../domain/errors.js';
import { normalizeRecoveryCode, type RecoveryCodes } from '../../domain/recovery-codes.js';
import { type SecretBox, totpSecretContext } from '../../domain/secret-box.js';
import { isTotpCodeFormat, matchTotp } from '../../domain/totp.js';
import { isTotp, type CodeProof, type FactorRecord, type StepProof, type TotpKey } from '../../stores/ports/index.js';
import { isSpendable } from '../../domain/proof.js';
import { totpSuspended, type CheckedUser, type CheckFailure, type Lockout } from './lockout.js';
import type { AssertionChecks, AssertionInput, PassedAssertion } from '../webauthn/assertion-checks.js';
import { notConfigured } from '../webauthn/webauthn-errors.js';

export type { CheckedUser, CheckFailure };

/** What a call gives to prove a change: a code, or (with an empty code) a security key's assertion. */
export interface CodeOrAssertion {
  readonly code: string;
  /** Absent or null: the code proves it. */
  readonly assertion?: AssertionInput | null;
}

/** What a TOTP check reads: a user's record, or VerifyTotp's copy of it (which has no failures: its version decides). */
export interface TotpState {
  readonly userId: string;
  readonly enabled: boolean;
  /** The TOTP authenticators only: a check never opens anything else (a security key has no secret). */
  readonly authenticators: readonly TotpKey[];
  readonly failures?: { readonly totpSuspendedAt: Date | null };
}

/** What checking a code against the state read found: the proof to spend, or why it fails. */
export type CheckResult = CodeProof | CheckFailure;

/**
 * The one home of the code-check flow, for every RPC that takes a code
 * (ConfirmTotpEnrollment, VerifyTotp, VerifyRecoveryCode, DisableMfa,
 * RegenerateRecoveryCodes):
 * 1. check the code against the state read: the TOTP window, a step already
 *    spent, a recovery code's hash (pure, no I/O);
 * 2. pass the lockout gate (lockout.ts), one atomic Redis step shared by
 *    every instance, which counts a failure or clears the count for a pass;
 * 3. spend the proof durably, in one conditional single-document write: of
 *    concurrent spends of one proof, one wins (RFC 6238 §5.2), and that write
 *    alone spends a code;
 * 4. a spend the durable store refuses (another call spent the proof first,
 *    or MFA went off meanwhile) counts as a failure like a replay.
 * Failed checks and replays are only counted; the check that locks the user
 * records one LOCKED_OUT event, so a brute-force run adds one event per
 * lockout period, however many codes it tries (issue 10).
 *
 * Nothing is claimed or leased in Redis, so a call cut off anywhere (a passed
 * deadline, a stalled Redis, a killed instance) leaves every code exactly as
 * usable as MongoDB says: spent if and only if its durable write committed.
 */
export class CodeChecks {
  constructor(
    private readonly deps: {
      readonly lockout: Lockout;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      /** Security keys' assertions; null when security keys are not configured (WEBAUTHN_NOT_CONFIGURED). */
      readonly assertions: AssertionChecks | null;
    },
  ) {}

  /**
   * Checks what proves a change: a code (TOTP or recovery, or TOTP only when
   * `totpOnly`), or a security key's assertion (validation let exactly one through).
   */
  async given(record: FactorRecord, given: CodeOrAssertion, now: Date, totpOnly = false): Promise<CheckResult> {
    if (given.assertion) return this.assertion(record, given.assertion);
    return totpOnly ? this.totp(totpState(record), given.code, now) : this.anyCode(record, given.code, now);
  }

  /** Checks a security key's assertion (AssertionChecks): takes its challenge, so it is used up whatever the outcome. */
  async assertion(record: FactorRecord, input: AssertionInput): Promise<PassedAssertion | CheckFailure> {
    if (this.deps.assertions === null) throw notConfigured();
    return this.deps.assertions.check(record, input);
  }

  /**
   * Checks a TOTP code against each of the user's authenticators: the proof
   * of the first one it is a fresh code of; CODE_REUSED when it is a code of
   * one of them whose step was already spent. (With N authenticators a guess
   * is right with probability 3N/10^6: MFA_MAX_AUTHENTICATORS bounds N.)
   * Throws TOTP_SUSPENDED while the user's TOTP is suspended, before the
   * lockout gate: such a check counts nothing, the right code included.
   */
  totp(record: TotpState, code: string, now: Date): StepProof | CheckFailure {
    if ((record.failures?.totpSuspendedAt ?? null) !== null) throw totpSuspended();
    let reused = false;
    for (const { authenticatorId, sealedSecret } of record.authenticators) {
      const secret = this.deps.box.open(sealedSecret, totpSecretContext(record.userId, authenticatorId));
      const timeStep = matchTotp(secret, code, now);
      if (timeStep === null) continue;
      if (isSpendable(record, { authenticatorId, timeStep })) return { authenticatorId, timeStep };
      reused = true;
    }
    return { failure: reused ? ErrorReason.CODE_REUSED : ErrorReason.INVALID_CODE };
  }

  /** Checks a recovery code (as typed) against the user's unused ones. */
  recoveryCode(record: FactorRecord, typed: string): CheckResult {
    const normalized = normalizeRecoveryCode(typed);
    const set = record.recoveryCodes;
    if (normalized === null || set === null) return { failure: ErrorReason.INVALID_CODE };
    const recoveryCodeHash = this.deps.recoveryCodes.hash(record.userId, set.keyId, normalized);
    return isSpendable(record, { recoveryCodeHash }) ? { recoveryCodeHash } : { failure: ErrorReason.INVALID_CODE };
  }

  /** Checks a code that may be either kind: 6 digits are a TOTP code, anything else a recovery code. */
  anyCode(record: FactorRecord, code: string, now: Date): CheckResult {
    return isTotpCodeFormat(code) ? this.totp(totpState(record), code, now) : this.recoveryCode(record, code);
  }

  /**
   * Passes `check` through the lockout gate and, when it passed, runs
   * `spend`, the durable write. Throws LOCKED_OUT while the user is locked
   * (even for a right code), the check's failure, or, when `spend` returns
   * null (the store refused the proof), CODE_REUSED for a TOTP step and
   * INVALID_CODE for a recovery code; each of these counts towards the lockout
   * and, with `user`'s durable failures, towards TOTP's suspension.
   */
  async spend<T>(user: CheckedUser, check: CheckResult, spend: (proof: CodeProof) => Promise<T | null>): Promise<T> {
    if ('failure' in check) return this.deps.lockout.refuse(user, check.failure);
    // A security key's pass ends a suspension's mark as a recovery code's does (issue 23).
    await this.deps.lockout.pass(user, 'signCount' in check);
    const spent = await spend(check);
    if (spent !== null) return spent;
    return this.deps.lockout.refuse(user, refusedSpend(check));
  }

  /**
   * Spends a proof checked on a copy that may be behind (VerifyTotp's Redis
   * copy), without the lockout count: only when the user is neither locked
   * nor has failures counted, so that a pass has nothing to clear and the
   * copy can never clear a count. `spend` must apply only to the state the
   * check read. Null when it did not spend (a failed check, a lockout or a
   * failure counted, or `spend` returned null): the caller then checks the
   * code on the durable record, through spend(), which counts.
   */
  async spendUncounted<T>(userId: string, check: StepProof | CheckFailure, spend: (proof: StepProof) => Promise<T | null>): Promise<T | null> {
    if ('failure' in check) return null;
    if (!(await this.deps.lockout.isClear(userId))) return null;
    return spend(check);
  }

  /**
   * Gives an answer again (a retried ConfirmTotpEnrollment whose outcome is
   * durable already): not a check, so it neither clears nor counts failures
   * (a retry must not reset the lockout between guesses), but it is refused
   * while the user is locked out.
   */
  async replay<T>(userId: string, answer: () => T): Promise<T> {
    await this.deps.lockout.throwIfLocked(userId);
    return answer();
  }
}

/** What a TOTP check reads of a user's record: its TOTP authenticators only. */
export function totpState(record: FactorRecord): TotpState {
  return { userId: record.userId, enabled: record.enabled, authenticators: record.authenticators.filter(isTotp), failures: record.failures };
}

/** The failure of a proof the durable store refused: a step spent meanwhile, a recovery code gone, a key's counter moved. */
function refusedSpend(proof: CodeProof): CheckFailure['failure'] {
  if ('signCount' in proof) return ErrorReason.WEBAUTHN_INVALID;
  return 'timeStep' in proof ? ErrorReason.CODE_REUSED : ErrorReason.INVALID_CODE;
}
