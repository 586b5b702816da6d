/**
 * The store interfaces (ports) the services are written against, one per
 * file. Each has a Redis or MongoDB adapter and an in-memory one;
 * test/integration/*-contract runs the same suite against all of them.
 *
 * Adapters throw MfaError(STORE_UNAVAILABLE) when their server cannot be reached.
 */
export * from './attempt-store.js';
export * from './factor-records.js';
export * from './factor-store.js';
export * from './login-copy-store.js';
export * from './notifier.js';
export * from './outbox-store.js';
export * from './pending-enrollment-store.js';
export * from './revocation-cache.js';
export * from './security-event-log.js';
export * from './assertion-key-store.js';
export * from './redemption-store.js';
export * from './credential-claim-store.js';
export * from './webauthn-challenge-store.js';
