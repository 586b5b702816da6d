import { expect } from 'chai';
import { MfaError } from '../../src/domain/errors.js';
import { OpenStreams } from '../../src/grpc/open-streams.js';

const reasonOf = (admit: () => unknown) => {
  try {
    admit();
  } catch (error) {
    return error instanceof MfaError ? error.reason : String(error);
  }
  return 'admitted';
};

describe('OpenStreams (the per-instance stream cap)', () => {
  it('admits up to its cap, refuses STREAM_LIMIT beyond it, and admits again once a stream is released', () => {
    const streams = new OpenStreams(2);
    const first = streams.admit();
    streams.admit();
    expect(reasonOf(() => streams.admit())).to.equal('STREAM_LIMIT');
    first.release();
    first.release(); // twice is once
    expect(streams.size).to.equal(1);
    expect(reasonOf(() => streams.admit())).to.equal('admitted');
    expect(reasonOf(() => streams.admit())).to.equal('STREAM_LIMIT');
  });

  context('at shutdown (closeAll)', () => {
    it('aborts the shutdown signal of every open stream, and refuses new ones SHUTTING_DOWN', () => {
      const streams = new OpenStreams(10);
      const open = [streams.admit(), streams.admit()];
      const released = streams.admit();
      released.release();
      streams.closeAll();
      expect(open.map((slot) => slot.shutdown.aborted)).to.deep.equal([true, true]);
      expect(released.shutdown.aborted).to.equal(false);
      expect(reasonOf(() => streams.admit())).to.equal('SHUTTING_DOWN');
    });
  });
});
