import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { FactorRecord, FactorStore } from '../../stores/ports/index.js';

/**
 * The user's record for a change of an enabled factor: MFA_NOT_ENABLED when
 * MFA is off. A record in the shape of before several authenticators is
 * rewritten in today's shape first (once per user), so the change can name
 * its authenticator.
 */
export async function enabledRecordForWrite(factors: FactorStore, userId: string): Promise<FactorRecord> {
  let record = await factors.get(userId);
  if (record?.legacy) {
    await factors.upgrade(userId);
    record = await factors.get(userId);
  }
  if (!record?.enabled || record.authenticators.length === 0) {
    throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user');
  }
  return record;
}
