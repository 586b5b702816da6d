import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { StoreMonitor, type StoreProbe } from '../../src/stores/store-monitor.js';
import { eventually } from '../support/eventually.js';

/** A probe whose pings stay pending until the test settles them, counting how many run at once. */
class HeldProbe implements StoreProbe {
  readonly name = 'held';
  started = 0;
  running = 0;
  mostAtOnce = 0;
  readonly #pending: Array<(ok: boolean) => void> = [];

  ping(): Promise<unknown> {
    this.started += 1;
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    return new Promise((resolve, reject) => {
      this.#pending.push((ok) => {
        this.running -= 1;
        if (ok) resolve('PONG');
        else reject(new Error('down'));
      });
    });
  }

  /** Settles the oldest pending ping. */
  settle(ok: boolean): void {
    const next = this.#pending.shift();
    expect(next, 'a pending ping').to.not.equal(undefined);
    next!(ok);
  }
}

describe('StoreMonitor', () => {
  context('when a ping takes longer than the interval', () => {
    it('never runs two rounds at once, and reports the rounds in the order they ran', async () => {
      const probe = new HeldProbe();
      const reports: boolean[] = [];
      const monitor = new StoreMonitor({ probes: [probe], intervalMs: 1, onChange: (healthy) => reports.push(healthy), logger: createLogger('silent') });
      monitor.start();
      try {
        await eventually(async () => expect(probe.started).to.equal(1), 2000);
        // Many intervals pass while the first ping is held: no second round may start meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(probe.started).to.equal(1);

        probe.settle(false);
        await eventually(async () => expect(probe.started).to.equal(2), 2000);
        probe.settle(true);
        await eventually(async () => expect(probe.started).to.equal(3), 2000);
        expect(probe.mostAtOnce).to.equal(1);
        expect(reports).to.deep.equal([false, true]);
      } finally {
        const stopping = monitor.stop();
        probe.settle(true);
        await stopping;
      }
    });
  });

  context('when stopped during a round', () => {
    it('waits for that round, reports nothing more, and starts no other', async () => {
      const probe = new HeldProbe();
      const reports: boolean[] = [];
      const monitor = new StoreMonitor({ probes: [probe], intervalMs: 1, onChange: (healthy) => reports.push(healthy), logger: createLogger('silent') });
      monitor.start();
      await eventually(async () => expect(probe.started).to.equal(1), 2000);
      let stopped = false;
      const stopping = monitor.stop().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).to.equal(false);
      probe.settle(false);
      await stopping;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect({ started: probe.started, reports }).to.deep.equal({ started: 1, reports: [] });
    });
  });
});
