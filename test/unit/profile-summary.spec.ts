import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverAreaOf } from '../../bench/driver-areas.js';
import { summariseProfile } from '../../bench/profile-summary.js';

describe('bench profile summary', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'mfa-profile-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('attributes each sample to the window its timestamp falls in, per function, per package and per call', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('verify', 'file:///x/.tmp/bench-build-1/services/verification-service.js') },
        { id: 3, callFrame: frame('command', 'file:///x/node_modules/mongodb/lib/sdam/server.js') },
      ],
      // Samples land at 1010, 1020, ..., 1080 µs.
      startTime: 1000,
      samples: [2, 2, 3, 1, 3, 3, 3, 1],
      timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10],
    };
    const path = join(dir, 'test.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));

    const [first, second] = summariseProfile(path, [
      { name: 'a', startUs: 1005, endUs: 1040, calls: 2 },
      { name: 'b', startUs: 1045, endUs: 1080, calls: 0 },
    ]);
    expect(first!.busyMs).to.equal(0); // 30 µs busy rounds to 0 ms
    expect(first!.functions.map((f) => [f.name, f.percent, f.usPerCall])).to.deep.equal([
      ['verify src/services/verification-service.js:1', 66.7, 10],
      ['command mongodb/lib/sdam/server.js:1', 33.3, 5],
    ]);
    expect(first!.packages.map((p) => p.name)).to.deep.equal(['the service (src/)', 'mongodb']);
    expect(second!.functions.map((f) => [f.name, f.percent, f.usPerCall])).to.deep.equal([['command mongodb/lib/sdam/server.js:1', 100, null]]);
  });

  it('groups the MongoDB driver\'s frames by the area a call spends them in (npm run bench:driver --profile)', () => {
    const area = (url: string, name = 'f') => driverAreaOf(url, name);
    expect(area('file:///x/node_modules/mongodb/lib/sessions.js')).to.equal('implicit sessions (sessions.js)');
    expect(area('file:///x/node_modules/mongodb/lib/sdam/topology.js')).to.equal('server selection (sdam/)');
    expect(area('file:///x/node_modules/mongodb/lib/cmap/connection_pool.js')).to.equal('connection pool (cmap/connection_pool)');
    expect(area('file:///x/node_modules/mongodb/lib/cmap/commands.js')).to.equal('OP_MSG framing (cmap/commands, wire_protocol/)');
    expect(area('file:///x/node_modules/mongodb/lib/operations/find.js')).to.equal('command building (operations/)');
    expect(area('file:///x/node_modules/bson/lib/bson.cjs')).to.equal('BSON (bson: serialise, parse)');
    expect(area('file:///x/node_modules/mongodb/lib/bson.js')).to.equal('BSON (bson: serialise, parse)');
    expect(area('', 'writeBuffer')).to.equal('socket (writes, native)');
    expect(area('', '(garbage collector)')).to.equal('garbage collection');
    expect(area('node:net')).to.equal('socket (node:net)');
  });
});
