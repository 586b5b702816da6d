import { addLogFields } from '../call-scope.js';
import type { AssertedMethod, AssertionBinding } from '../domain/mfa-assertion-claims.js';
import type { AssertionService } from '../services/assertions/assertion-service.js';

/** The response fields of a check that may carry an MFA assertion. */
export interface AssertionFields {
  readonly mfaAssertion: string;
  readonly mfaAssertionExpiresAt: Date | undefined;
}

/**
 * Runs a code check that may return an MFA assertion (VerifyTotp,
 * VerifyRecoveryCode and, with the security-key work, VerifyWebAuthn), the
 * one place that orders it: with a request (validated already), assertions
 * must be configured and a signing key open before `check` runs, so that a
 * refused request checks and counts no code and a spent code never lacks its
 * assertion; after the check passed, the assertion is signed for the check
 * `describe` names, and its jti goes into the call's log line. A failed check
 * throws before anything is signed.
 */
export async function checkWithAssertion<T>(
  assertions: AssertionService,
  binding: AssertionBinding | null,
  check: () => Promise<T>,
  describe: (result: T) => { readonly userId: string; readonly checked: AssertedMethod },
): Promise<{ readonly result: T; readonly assertion: AssertionFields }> {
  if (binding === null) return { result: await check(), assertion: { mfaAssertion: '', mfaAssertionExpiresAt: undefined } };
  const signer = await assertions.prepare();
  const result = await check();
  const { userId, checked } = describe(result);
  const issued = await assertions.issue(signer, userId, checked, binding);
  addLogFields({ assertionJti: issued.jti, assertionKid: signer.kid });
  return { result, assertion: { mfaAssertion: issued.token, mfaAssertionExpiresAt: issued.expiresAt } };
}
