import { expect } from 'chai';
import { addressOf, cannotReachAtStartUp } from '../../src/stores/cannot-reach-at-start-up.js';

describe('cannotReachAtStartUp', () => {
  for (const [url, address] of [
    ['redis://:hunter2@cache:6379/0', 'redis://cache:6379'],
    ['rediss://mfa:hunter2@a:7000,rediss://mfa:hunter2@b:7001', 'rediss://a:7000,rediss://b:7001'],
    ['mongodb://mfa:hun%40ter2@db1:27017,db2:27017/mfa?replicaSet=rs0&authSource=admin', 'mongodb://db1:27017,db2:27017'],
    ['mongodb+srv://mfa:hunter2@cluster0.example.net/?retryWrites=true', 'mongodb+srv://cluster0.example.net'],
  ]) {
    it(`names ${address} for ${url.replace(/hun[^@]*@/g, '…@')}, without credentials or options`, () => {
      expect(addressOf(url!)).to.equal(address);
    });
  }

  it('says why in plain words, from the driver error or what it wraps', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6380'), { code: 'ECONNREFUSED' });
    const wrapped = new AggregateError([new Error('Connection is closed.'), refused], 'Connection is closed.');
    expect(cannotReachAtStartUp('Redis', 'redis://127.0.0.1:6380', wrapped).message).to.equal('cannot reach Redis at redis://127.0.0.1:6380: connection refused');
    expect(cannotReachAtStartUp('MongoDB', 'mongodb://x:1', new Error('getaddrinfo ENOTFOUND x')).message).to.equal('cannot reach MongoDB at mongodb://x:1: host not found');
    expect(cannotReachAtStartUp('Redis', 'redis://x:1', new Error('WRONGPASS invalid username-password pair')).message).to.match(/: authentication failed$/);
  });

  it('falls back to the first line of the message, without credentials of any URL in it', () => {
    const error = new Error('unexpected reply from mongodb://mfa:hunter2@db:27017\nstack');
    expect(cannotReachAtStartUp('MongoDB', 'mongodb://db:27017', error).message).to.equal('cannot reach MongoDB at mongodb://db:27017: unexpected reply from mongodb://db:27017');
  });
});
