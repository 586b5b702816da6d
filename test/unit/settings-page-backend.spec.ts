import { expect } from 'chai';
import { loadDemoConfig } from '../../examples/settings-page/backend/demo-config.js';
import { checkPassword } from '../../examples/settings-page/backend/demo-users.js';
import { explain, timeLeft } from '../../examples/settings-page/backend/error-words.js';
import { MfaClientError } from '../../src/client/mfa-client-error.js';
import { ErrorReason, MfaError } from '../../src/domain/errors.js';
import { toServiceError } from '../../src/grpc/error-status.js';

describe('The settings page backend (examples/settings-page)', () => {
  describe('timeLeft, the lockout time in words', () => {
    it('rounds up to whole seconds under two minutes, then minutes, then hours', () => {
      expect(timeLeft(1)).to.equal('1 second');
      expect(timeLeft(1000)).to.equal('1 second');
      expect(timeLeft(1001)).to.equal('2 seconds');
      expect(timeLeft(119_000)).to.equal('119 seconds');
      expect(timeLeft(900_000)).to.equal('15 minutes');
      expect(timeLeft(7_200_000)).to.equal('2 hours');
    });
  });

  describe('explain, a failed call in words', () => {
    const explained = (reason: ErrorReason) => explain(new MfaClientError(toServiceError(new MfaError(reason, 'the service\'s own message'))));

    it('says what went wrong with a security key, keeping the reason for the tooltip', () => {
      expect(explained(ErrorReason.CHALLENGE_NOT_FOUND)).to.include({ status: 404, reason: 'CHALLENGE_NOT_FOUND', message: 'That security-key request expired or was already used. Try again.' });
      expect(explained(ErrorReason.WEBAUTHN_INVALID)).to.include({ status: 403, reason: 'WEBAUTHN_INVALID' });
      expect(explained(ErrorReason.WEBAUTHN_INVALID).message).to.match(/^Your security key's answer was not accepted\./);
      expect(explained(ErrorReason.CREDENTIAL_IN_USE)).to.include({ status: 400, message: 'That security key is already registered. Use another key.' });
      expect(explained(ErrorReason.WEBAUTHN_NOT_CONFIGURED).message).to.match(/^Security keys are not set up on this site/);
    });
  });

  describe('loadDemoConfig', () => {
    it('serves on 8080 and starts its own service by default', () => {
      expect(loadDemoConfig({})).to.deep.equal({ port: 8080, external: null });
    });

    it('calls the service MFA_ADDR names, with the tokens given', () => {
      const config = loadDemoConfig({ DEMO_PORT: '9000', MFA_ADDR: 'mfa:50051', MFA_TOKEN: 'a', MFA_ADMIN_TOKEN: 'b', MFA_EVENTS_TOKEN: 'c' });
      expect(config).to.deep.equal({ port: 9000, external: { address: 'mfa:50051', token: 'a', adminToken: 'b', eventsToken: 'c' } });
    });

    it('refuses real stores without MFA_ENCRYPTION_KEYS, in one line that says so', () => {
      expect(() => loadDemoConfig({ REDIS_URL: 'redis://r', MONGO_URL: 'mongodb://m' })).to.throw(/^MFA_ENCRYPTION_KEYS is required with REDIS_URL and MONGO_URL/);
      expect(loadDemoConfig({ REDIS_URL: 'redis://r', MONGO_URL: 'mongodb://m', MFA_ENCRYPTION_KEYS: 'k1:x' }).external).to.equal(null);
    });

    it('refuses a DEMO_PORT that is not a port', () => {
      expect(() => loadDemoConfig({ DEMO_PORT: 'http' })).to.throw('DEMO_PORT must be a port number, got "http"');
      expect(() => loadDemoConfig({ DEMO_PORT: '70000' })).to.throw('DEMO_PORT must be a port number');
    });
  });

  describe('checkPassword (demo-grade)', () => {
    it('accepts a demo user with the demo password only', () => {
      expect(checkPassword('alice', 'demo')).to.equal(true);
      expect(checkPassword('alice', 'dem')).to.equal(false);
      expect(checkPassword('mallory', 'demo')).to.equal(false);
    });
  });
});
