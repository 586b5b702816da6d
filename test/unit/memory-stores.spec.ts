import { MemoryAttemptStore } from '../../src/stores/memory/memory-attempt-store.js';
import { MemoryAuditLog } from '../../src/stores/memory/memory-audit-log.js';
import { MemoryConfirmationNotifier } from '../../src/stores/memory/memory-confirmation-notifier.js';
import { MemoryFactorStore } from '../../src/stores/memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from '../../src/stores/memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from '../../src/stores/memory/memory-revocation-cache.js';
import { storeContract } from '../integration/store-contract.js';
import { FakeClock } from '../support/fake-clock.js';

storeContract('in-memory', () => {
  const clock = new FakeClock();
  const notifier = new MemoryConfirmationNotifier();
  return {
    notifiers: [notifier, notifier],
    clock,
    factors: new MemoryFactorStore(),
    pending: new MemoryPendingEnrollmentStore(clock),
    attempts: new MemoryAttemptStore(clock),
    revocations: new MemoryRevocationCache(),
    auditLog: new MemoryAuditLog(),
    elapse: async (ms) => clock.advance(ms),
  };
});
