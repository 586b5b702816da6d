import { assertionStoresContract } from './assertion-stores-contract.js';
import { confirmationNotifierContract } from './notifier-contract.js';
import type { StoreFixture } from './contract-support.js';
import { factorStoreContract } from './factor-store-contract.js';
import { securityEventLogContract } from './security-event-log-contract.js';
import { shortLivedStoresContract } from './short-lived-contract.js';
import { webauthnStoresContract } from './webauthn-contract.js';

export type { StoreFixture } from './contract-support.js';

/**
 * The behaviour every store adapter must share. Runs against the in-memory
 * stores and against Redis (single and Cluster) + a MongoDB-compatible server,
 * so the embedded default cannot drift from the real thing.
 */
export function storeContract(name: string, setup: () => StoreFixture): void {
  describe(`store contract: ${name}`, () => {
    factorStoreContract(setup);
    shortLivedStoresContract(setup);
    securityEventLogContract(setup);
    confirmationNotifierContract(setup);
    assertionStoresContract(setup);
    webauthnStoresContract(setup);
  });
}
