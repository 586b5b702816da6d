import { MemoryAssertionKeyStore } from '../../src/stores/memory/memory-assertion-key-store.js';
import { MemoryRedemptionStore } from '../../src/stores/memory/memory-redemption-store.js';
import { MemoryAttemptStore } from '../../src/stores/memory/memory-attempt-store.js';
import { MemoryNotifier } from '../../src/stores/memory/memory-notifier.js';
import { MemoryFactorStore } from '../../src/stores/memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from '../../src/stores/memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from '../../src/stores/memory/memory-revocation-cache.js';
import { MemoryLoginCopyStore } from '../../src/stores/memory/memory-login-copy-store.js';
import { MemorySecurityEventLog } from '../../src/stores/memory/memory-security-event-log.js';
import { MemoryCredentialClaimStore } from '../../src/stores/memory/memory-credential-claim-store.js';
import { MemoryWebAuthnChallengeStore } from '../../src/stores/memory/memory-webauthn-challenge-store.js';
import { storeContract } from '../integration/store-contract.js';
import { FakeClock } from '../support/fake-clock.js';

storeContract('in-memory', () => {
  const clock = new FakeClock();
  const notifier = new MemoryNotifier();
  return {
    notifiers: [notifier, notifier],
    clock,
    factors: new MemoryFactorStore(),
    pending: new MemoryPendingEnrollmentStore(clock),
    attempts: new MemoryAttemptStore(clock),
    revocations: new MemoryRevocationCache(),
    loginCopies: new MemoryLoginCopyStore({ clock, ttlMs: 300 }),
    securityEvents: new MemorySecurityEventLog(),
    assertionKeys: new MemoryAssertionKeyStore(),
    redemptions: new MemoryRedemptionStore(),
    challenges: new MemoryWebAuthnChallengeStore(clock),
    credentialClaims: new MemoryCredentialClaimStore(),
    elapse: async (ms) => clock.advance(ms),
  };
});
