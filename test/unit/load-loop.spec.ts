import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../../bench/load-loop.js';

describe('bench: the load loop', () => {
  it('ends a window in which no call completed at its first completed call, and counts the time it took', async () => {
    const window = await runLoad({ concurrency: 1, warmupMs: 0, durationMs: 20, serverPid: process.pid, call: () => sleep(150) });
    expect(window.windowCalls).to.equal(1);
  });

  it('ends a window on time when calls completed in it', async () => {
    const window = await runLoad({ concurrency: 2, warmupMs: 0, durationMs: 100, serverPid: process.pid, call: () => sleep(5) });
    expect(window.windowCalls).to.be.greaterThan(2);
  });
});
