import { expect } from 'chai';
import { CallerAuthenticator } from '../../src/grpc/caller-tokens.js';

describe('CallerAuthenticator', () => {
  const auth = new CallerAuthenticator([
    { name: 'login-service', token: 'login-token-0123456789' },
    { name: 'support', token: 'support-token-0123456789' },
  ]);

  it('names the caller whose bearer token was presented', () => {
    expect(auth.authenticate('Bearer login-token-0123456789')).to.equal('login-service');
    expect(auth.authenticate('bearer support-token-0123456789')).to.equal('support');
  });

  it('refuses a missing, unknown, malformed or partial token', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer nope', 'Basic login-token-0123456789', 'login-token-0123456789', 'Bearer login-token-012345678']) {
      expect(auth.authenticate(header), String(header)).to.equal(null);
    }
  });
});
