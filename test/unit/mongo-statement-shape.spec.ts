import { expect } from 'chai';
import { ObjectId } from 'mongodb';
import { mongoStatementShape } from '../../src/tracing/mongo-statement-shape.js';

describe('mongoStatementShape (db.query.text of MongoDB spans)', () => {
  it('keeps the command and field names and replaces every value with "?"', () => {
    const shape = mongoStatementShape({
      update: 'mfa_factors',
      updates: [{ q: { _id: 'alice', enabled: true }, u: { $set: { sealedSecret: 'v1.k1.aaaa.bbbb', lastTimeStep: 5 } } }],
    });
    expect(JSON.parse(shape)).to.deep.equal({
      update: '?',
      updates: [{ q: { _id: '?', enabled: '?' }, u: { $set: { sealedSecret: '?', lastTimeStep: '?' } } }],
    });
  });

  it('hides key segments that are not plain words, such as ids in a path', () => {
    const shape = mongoStatementShape({ $unset: { 'devices.dev_3kQ9x.lastUsedAt': '', 'recoveryCodes.hashes': 1 } });
    expect(JSON.parse(shape)).to.deep.equal({ $unset: { 'devices.?.lastUsedAt': '?', 'recoveryCodes.hashes': '?' } });
  });

  it('turns BSON values, dates and binary data into "?"', () => {
    const shape = mongoStatementShape({ a: new ObjectId(), b: new Date(), c: Buffer.from('secret'), d: null });
    expect(JSON.parse(shape)).to.deep.equal({ a: '?', b: '?', c: '?', d: '?' });
  });
});
