import { expect } from 'chai';
import { serializedFactorStore, type UserLock } from '../../src/stores/ferretdb/serialized-factor-store.js';
import { MemoryFactorStore } from '../../src/stores/memory/memory-factor-store.js';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { FACTOR_STORE_METHODS, OUTBOX_STORE_METHODS } from '../../src/stores/ports/index.js';

const LABELS: Record<string, 'read' | 'write'> = { ...FACTOR_STORE_METHODS, ...OUTBOX_STORE_METHODS };

/** The public methods an adapter class defines (what a decorator must list), less its own set-up. */
function methodsOf(adapter: new (...args: never[]) => object): string[] {
  return Object.getOwnPropertyNames(adapter.prototype).filter((name) => name !== 'constructor' && name !== 'ensureIndexes');
}

describe('decorateWrites (the FerretDB lock, the relay nudge)', () => {
  it('lists, as a read or a write, every method the factor-store adapters have', () => {
    for (const adapter of [MemoryFactorStore, MongoFactorStore]) {
      expect(methodsOf(adapter).sort(), adapter.name).to.deep.equal(Object.keys(LABELS).sort());
    }
  });

  it('labels as reads exactly the methods that change nothing: a write labelled read would slip past the lock', () => {
    expect(Object.keys(LABELS).filter((name) => LABELS[name] === 'read').sort()).to.deep.equal(['devices', 'get', 'outbox', 'outboxes']);
  });

  it('runs every write under the lock of the user it names, and no read', async () => {
    const locked: string[] = [];
    const lock: UserLock = {
      withLock: async (userId, work) => {
        locked.push(userId);
        return work();
      },
    };
    const inner = new MemoryFactorStore();
    const store = serializedFactorStore(inner, lock);
    await store.get('alice');
    await store.devices('alice');
    await store.outbox('alice');
    await store.outboxes(new Date(), 10);
    expect(locked).to.deep.equal([]);
    await store.recordEvents('alice', []);
    await store.raiseSessionsRevokedAt('bob', new Date(), []);
    await store.dropFromOutbox('carol', []);
    expect(locked).to.deep.equal(['alice', 'bob', 'carol']);
  });

  it('calls the method the store has when the call is made (a test may replace it later)', async () => {
    const inner = new MemoryFactorStore();
    const store = serializedFactorStore(inner, { withLock: (_userId, work) => work() });
    inner.get = async () => {
      throw new Error('replaced');
    };
    let caught: unknown;
    await store.get('alice').catch((error: unknown) => (caught = error));
    expect((caught as Error).message).to.equal('replaced');
  });
});
