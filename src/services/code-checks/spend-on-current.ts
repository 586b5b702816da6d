import type { CodeProof, FactorRecord, FactorStore, ProvenChange } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import { isSpendable } from '../../domain/proof.js';
import { storeUnavailable } from '../../domain/store-unavailable-error.js';

// Each round one of the concurrent writers wins, so this bounds the writers of one user at once.
const MAX_ROUNDS = 16;

/**
 * Spends `proof` together with a change worked out from the record it
 * applies to: the write names the record's version, and when another write
 * came in between, the record is read again and the change worked out anew.
 * So a limit checked by `change` (the device cap, the authenticator limit,
 * the last authenticator) holds under concurrency. `change` may throw to
 * refuse. Null when the proof is no longer spendable.
 *
 * A recovery code spent this way records RECOVERY_CODE_USED with the number
 * left, exact because the write applies to the record it was counted on
 * (unless the change replaces the codes, and says so in its own event), and
 * TOTP_RESTORED when it (or a security key's assertion) restores the user's suspended TOTP.
 */
export async function spendOnCurrent<T>(
  { factors, events }: { readonly factors: FactorStore; readonly events: SecurityEventFactory },
  proof: CodeProof,
  read: FactorRecord,
  change: (record: FactorRecord) => { change: ProvenChange; result: T },
): Promise<{ recoveryCodesRemaining: number; result: T } | null> {
  let record = read;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const planned = change(record);
    const { userId } = record;
    const used =
      'recoveryCodeHash' in proof && planned.change.replaceRecoveryCodes === undefined
        ? [events.make(userId, 'RECOVERY_CODE_USED', { recoveryCodesRemaining: (record.recoveryCodes?.hashes.length ?? 1) - 1 })]
        : [];
    // The spend restores suspended TOTP (every spend clears the failures): said in the same write (issue 22);
    // a security key's assertion restores it too (issue 23).
    const restored = !('timeStep' in proof) && record.failures.totpSuspendedAt !== null ? [events.make(userId, 'TOTP_RESTORED')] : [];
    const withEvents = { ...planned.change, events: [...(planned.change.events ?? []), ...used, ...restored] };
    const spent = await factors.spendProof(userId, proof, withEvents, record.version);
    if (spent !== null) return { ...spent, result: planned.result };
    const fresh = await factors.get(record.userId);
    if (fresh === null || !isSpendable(fresh, proof)) return null;
    record = fresh;
  }
  throw storeUnavailable('MongoDB (the user record kept changing under a write)', null);
}
