import type { Clock } from '../../domain/clock.js';
import type { LoginCopy, LoginCopyStore } from '../ports/index.js';
import { ExpiringMap } from './expiring-map.js';

/** In-process LoginCopyStore: a copy lives `ttlMs` from its last read or write, as the Redis one does (GETEX). */
export class MemoryLoginCopyStore implements LoginCopyStore {
  readonly #copies: ExpiringMap<LoginCopy>;

  constructor(private readonly deps: { readonly clock: Clock; readonly ttlMs: number }) {
    this.#copies = new ExpiringMap(deps.clock);
  }

  async get(userId: string): Promise<LoginCopy | null> {
    return this.#copies.extend(userId, this.#expiry()) ?? null;
  }

  async put(copy: LoginCopy): Promise<void> {
    this.#copies.set(copy.userId, copy, this.#expiry());
  }

  /** How many copies are held, expired ones not yet removed included (tests). */
  get held(): number {
    return this.#copies.held;
  }

  #expiry(): number {
    return this.deps.clock.now().getTime() + this.deps.ttlMs;
  }
}
