import { expect } from 'chai';
import { snapshotStoreCpu, storeCpuBetween } from '../../bench/store-cpu.js';

describe('bench: the stores\' CPU per window (store-cpu.ts)', () => {
  it('sums each group\'s processes, counting one born in the window from zero and leaving out one that ended', () => {
    const start = { postgres: new Map([[10, 1_000], [11, 5_000]]), redis: new Map([[20, 700]]) };
    const end = { postgres: new Map([[10, 1_600], [12, 300]]), redis: new Map([[20, 900]]) };
    expect(storeCpuBetween(start, end)).to.deep.equal({ postgres: 600 + 300, redis: 200 });
  });

  it('finds no process for a port nothing listens on, and none when asked for none', () => {
    expect(snapshotStoreCpu({})).to.deep.equal({});
    const found = snapshotStoreCpu({ redisPort: 1, ferretdbPort: 1, postgresDatabase: 'no_such_database_here' });
    expect(Object.fromEntries(Object.entries(found).map(([name, pids]) => [name, pids.size]))).to.deep.equal({ redis: 0, ferretdb: 0, postgres: 0 });
  });
});
