import type { Clock } from '../../domain/clock.js';
import type { ChallengePurpose, WebAuthnChallenge, WebAuthnChallengeStore } from '../ports/index.js';
import { ExpiringMap } from './expiring-map.js';

/** In-process WebAuthn challenges: the embedded default and the unit-test fake. */
export class MemoryWebAuthnChallengeStore implements WebAuthnChallengeStore {
  readonly #challenges: ExpiringMap<WebAuthnChallenge>;
  readonly #outcomes: ExpiringMap<string>;

  constructor(clock: Clock) {
    this.#challenges = new ExpiringMap(clock);
    this.#outcomes = new ExpiringMap(clock);
  }

  async put(challenge: WebAuthnChallenge): Promise<void> {
    this.#challenges.set(key(challenge.userId, challenge.purpose, challenge.challengeId), challenge, challenge.expiresAt.getTime());
  }

  async take(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null> {
    const k = key(userId, purpose, challengeId);
    const found = this.#challenges.get(k);
    this.#challenges.delete(k);
    return found ?? null;
  }

  async get(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null> {
    return this.#challenges.get(key(userId, purpose, challengeId)) ?? null;
  }

  async settle(userId: string, challengeId: string, outcome: string, keepUntil: Date): Promise<string | null> {
    const k = key(userId, 'registration', challengeId);
    const registration = this.#challenges.get(k);
    if (registration === undefined) return null;
    const until = Math.max(keepUntil.getTime(), registration.expiresAt.getTime());
    this.#challenges.extend(k, until);
    const recorded = this.#outcomes.get(k);
    if (recorded !== undefined) return recorded;
    this.#outcomes.set(k, outcome, until);
    return outcome;
  }

  async outcome(userId: string, challengeId: string): Promise<string | null> {
    return this.#outcomes.get(key(userId, 'registration', challengeId)) ?? null;
  }
}

function key(userId: string, purpose: ChallengePurpose, challengeId: string): string {
  return JSON.stringify([userId, purpose, challengeId]);
}
