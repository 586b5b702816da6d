import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heapSummaryMarkdown, summariseHeapSnapshot } from '../../bench/heap-snapshot.js';

describe('bench heap snapshot summary', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'mfa-heap-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sums self sizes by constructor, V8\'s own kinds each as one group, largest first, and what is native apart', () => {
    const fields = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
    const types = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string'];
    const strings = ['(GC roots)', 'Map', 'abc', 'Buffer', 'x', 'system / JSArrayBufferData'];
    const node = (type: string, name: number, size: number) => [types.indexOf(type), name, 1, size, 0, 0, 0];
    const snapshot = {
      snapshot: { meta: { node_fields: fields, node_types: [types, 'string', 'number'] } },
      nodes: [
        ...node('synthetic', 0, 0),
        ...node('object', 1, 100),
        ...node('object', 1, 50),
        ...node('string', 2, 70),
        ...node('sliced string', 4, 30),
        ...node('object', 3, 20),
        ...node('code', 4, 400),
        ...node('native', 5, 10),
      ],
      edges: [],
      strings,
    };
    const path = join(dir, 'test.heapsnapshot');
    writeFileSync(path, JSON.stringify(snapshot));

    const summary = summariseHeapSnapshot(path, 3);
    expect(summary.liveBytes).to.equal(680);
    expect(summary.nativeBytes, 'outside the V8 heap').to.equal(10);
    expect(summary.objects).to.equal(8);
    expect(summary.groups).to.deep.equal([
      { name: '(compiled code)', count: 1, selfBytes: 400 },
      { name: 'Map', count: 2, selfBytes: 150 },
      { name: '(string)', count: 2, selfBytes: 100 },
    ]);
    expect(heapSummaryMarkdown(summary, 'Heap')).to.match(/^\| Map \| 2 \| 0\.0 \| 22\.1% \|$/m);
  });

  it('refuses a file that is not a V8 heap snapshot', () => {
    const path = join(dir, 'other.heapsnapshot');
    writeFileSync(path, JSON.stringify({ snapshot: { meta: { node_fields: ['a'], node_types: [[]] } }, nodes: [], strings: [] }));
    expect(() => summariseHeapSnapshot(path)).to.throw(/not a V8 heap snapshot/);
  });
});
