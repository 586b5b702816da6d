import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const EXTERNAL = { REDIS_URL: 'redis://127.0.0.1:6379', MONGO_URL: 'mongodb://127.0.0.1:27017', MFA_ENCRYPTION_KEYS: KEYS };

describe('loadConfig', () => {
  it('defaults to the embedded in-memory stores on 0.0.0.0:50051 with the documented limits', () => {
    const config = loadConfig({});
    expect(config).to.deep.include({
      grpcHost: '0.0.0.0',
      grpcPort: 50051,
      stores: { kind: 'memory' },
      keyring: null,
      enrollmentTtlSeconds: 60,
      maxFailedAttempts: 5,
      lockoutSeconds: 900,
      rememberDeviceDays: 30,
      maxAuthenticators: 5,
      maxWatchStreams: 1000,
    });
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('uses Redis and MongoDB when both URLs are set, with MONGO_DB defaulting to mfa', () => {
    const config = loadConfig(EXTERNAL);
    expect(config.stores).to.deep.equal({
      kind: 'external',
      redisUrl: EXTERNAL.REDIS_URL,
      redisCluster: false,
      redisKeyPrefix: 'mfa:',
      mongoUrl: EXTERNAL.MONGO_URL,
      mongoDb: 'mfa',
    });
    expect(config.keyring!.currentId).to.equal('k1');
  });

  it('prefixes Redis keys with MFA_REDIS_KEY_PREFIX, and refuses one with a brace (hash tags are the service\'s)', () => {
    const config = loadConfig({ ...EXTERNAL, MFA_REDIS_KEY_PREFIX: 'staging.mfa:' });
    expect(config.stores).to.deep.include({ redisKeyPrefix: 'staging.mfa:' });
    expect(() => loadConfig({ ...EXTERNAL, MFA_REDIS_KEY_PREFIX: 'a{b}:' })).to.throw(ConfigError, /MFA_REDIS_KEY_PREFIX must be/);
  });

  it('reads caller tokens, admin callers and the production settings', () => {
    const config = loadConfig({
      MFA_AUTH_TOKENS: 'login-service:0123456789abcdefgh, support:abcdefghij0123456789',
      MFA_ADMIN_CALLERS: 'support',
      GRPC_REFLECTION: 'false',
      METRICS_PORT: '9464',
      MFA_SHUTDOWN_GRACE_SECONDS: '3',
      NODE_ENV: 'production',
    });
    expect(config.callerTokens.map((t) => t.name)).to.deep.equal(['login-service', 'support']);
    expect([...config.adminCallers]).to.deep.equal(['support']);
    expect(config).to.deep.include({ reflection: false, metricsPort: 9464, shutdownGraceSeconds: 3, production: true, tls: null });
  });

  it('reads LOG_FORMAT, and leaves the choice to main.ts when it is not set', () => {
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).to.equal('pretty');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).to.equal('json');
    expect(loadConfig({}).logFormat).to.equal(null);
  });
  for (const url of [
    'mongodb://127.0.0.1:27017',
    'mongodb://db1:27017,db2:27017/mfa?replicaSet=rs0&w=majority&journal=true&readPreference=primary',
    'mongodb://user:pa%3Fss@db:27017/?j=true&wtimeoutMS=5000&readConcernLevel=majority',
  ]) {
    it(`accepts a MONGO_URL that keeps or strengthens the durability settings: ${url}`, () => {
      expect(loadConfig({ ...EXTERNAL, MONGO_URL: url }).stores).to.deep.include({ mongoUrl: url });
    });
  }

  for (const [option, message] of [
    ['w=1', /w=1 is refused: writes must be w=majority/],
    ['w=0', /w=0 is refused/],
    ['w=3', /w=3 is refused/],
    ['W=1', /W=1 is refused/],
    ['w=dc-tags', /w=dc-tags is refused/],
    ['journal=false', /journal=false is refused: writes must be journaled/],
    ['j=false', /j=false is refused/],
    ['readPreference=secondary', /readPreference=secondary is refused: reads must go to the primary/],
    ['readPreference=secondaryPreferred', /readPreference=secondaryPreferred is refused/],
    ['readPreference=primaryPreferred', /readPreference=primaryPreferred is refused/],
    ['readPreference=nearest', /readPreference=nearest is refused/],
  ] as const) {
    it(`stops start-up with a one-line ConfigError for a MONGO_URL with ${option}, without the URL's password`, () => {
      const url = `mongodb://mfa:s3cret-pass@db1:27017,db2:27017/mfa?replicaSet=rs0&${option}`;
      expect(() => loadConfig({ ...EXTERNAL, MONGO_URL: url }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(message)
        .and.does.not.contain('\n')
        .and.does.not.contain('s3cret-pass');
    });
  }

  it('never puts a caller token in its error message', () => {
    expect(() => loadConfig({ MFA_AUTH_TOKENS: 'login:tooshorttoken' })).to.throw(ConfigError).with.property('message').that.does.not.contain('tooshorttoken');
  });

  for (const [what, env, message] of [
    ['only REDIS_URL', { REDIS_URL: 'redis://x' }, /both REDIS_URL and MONGO_URL/],
    ['only MONGO_URL', { MONGO_URL: 'mongodb://x' }, /both REDIS_URL and MONGO_URL/],
    ['external stores without MFA_ENCRYPTION_KEYS', { ...EXTERNAL, MFA_ENCRYPTION_KEYS: '' }, /MFA_ENCRYPTION_KEYS is required/],
    ['a malformed keyring', { ...EXTERNAL, MFA_ENCRYPTION_KEYS: 'k1:short' }, /MFA_ENCRYPTION_KEYS/],
    ['a non-numeric port', { GRPC_PORT: 'http' }, /GRPC_PORT must be a whole number/],
    ['an unknown log format', { LOG_FORMAT: 'xml' }, /LOG_FORMAT must be json or pretty/],
    ['a zero lockout', { MFA_LOCKOUT_SECONDS: '0' }, /MFA_LOCKOUT_SECONDS/],
    ['more than 10 authenticators', { MFA_MAX_AUTHENTICATORS: '11' }, /MFA_MAX_AUTHENTICATORS must be a whole number from 1 to 10/],
    ['no watch streams at all', { MFA_MAX_WATCH_STREAMS: '0' }, /MFA_MAX_WATCH_STREAMS must be a whole number from 1 to 100000/],
    ['an issuer with ":"', { MFA_ISSUER: 'a:b' }, /MFA_ISSUER/],
    ['a short caller token', { MFA_AUTH_TOKENS: 'login:short' }, /at least 16 characters/],
    ['a caller token without a name', { MFA_AUTH_TOKENS: ':0123456789abcdefgh' }, /not name:token/],
    ['a caller named twice', { MFA_AUTH_TOKENS: 'a:0123456789abcdefgh,a:0123456789abcdefgi' }, /twice/],
    ['an admin caller without a token', { MFA_AUTH_TOKENS: 'a:0123456789abcdefgh', MFA_ADMIN_CALLERS: 'b' }, /MFA_ADMIN_CALLERS names "b"/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of/],
    ['a cluster seed without a scheme', { ...EXTERNAL, REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:7000,b:7001' }, /not a redis:\/\/ or rediss:\/\/ URL/],
    ['GRPC_REFLECTION=maybe', { GRPC_REFLECTION: 'maybe' }, /GRPC_REFLECTION must be true or false/],
    ['a TLS key without a certificate', { GRPC_TLS_KEY: '/tmp/key.pem' }, /GRPC_TLS_CERT and GRPC_TLS_KEY/],
    ['an unreadable TLS certificate', { GRPC_TLS_CERT: '/nonexistent/cert.pem', GRPC_TLS_KEY: '/nonexistent/key.pem' }, /cannot read/],
  ] as const) {
    it(`stops start-up with a one-line ConfigError for ${what}`, () => {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.match(message).and.not.contain('\n');
    });
  }
});

describe('loadConfig: MFA_LOCKOUT_MAX_SECONDS (issue 22)', () => {
  it('defaults to a day, and takes any value from MFA_LOCKOUT_SECONDS to a week', () => {
    expect(loadConfig({}).lockoutMaxSeconds).to.equal(86_400);
    expect(loadConfig({ MFA_LOCKOUT_SECONDS: '60', MFA_LOCKOUT_MAX_SECONDS: '60' }).lockoutMaxSeconds).to.equal(60);
    expect(loadConfig({ MFA_LOCKOUT_MAX_SECONDS: '604800' }).lockoutMaxSeconds).to.equal(604_800);
  });

  for (const [what, env, message] of [
    ['a maximum below MFA_LOCKOUT_SECONDS', { MFA_LOCKOUT_SECONDS: '900', MFA_LOCKOUT_MAX_SECONDS: '899' }, /^MFA_LOCKOUT_MAX_SECONDS must be at least MFA_LOCKOUT_SECONDS \(900\), got "899"$/],
    ['a maximum above a week', { MFA_LOCKOUT_MAX_SECONDS: '604801' }, /^MFA_LOCKOUT_MAX_SECONDS must be a whole number from 1 to 604800, got "604801"$/],
    ['a maximum that is not a number', { MFA_LOCKOUT_MAX_SECONDS: '1d' }, /^MFA_LOCKOUT_MAX_SECONDS must be a whole number/],
  ] as const) {
    it(`stops start-up with a one-line ConfigError naming it for ${what}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }
});

describe('loadConfig: MFA assertions (issue 25)', () => {
  it('leaves assertions off by default, with a 300 s TTL and 30-day rotation ready', () => {
    expect(loadConfig({})).to.include({ assertionIssuer: null, assertionTtlSeconds: 300, assertionKeyRotationDays: 30 });
  });

  it('turns them on with MFA_ASSERTION_ISSUER, and reads the TTL and rotation', () => {
    const config = loadConfig({ MFA_ASSERTION_ISSUER: 'https://mfa.internal', MFA_ASSERTION_TTL_SECONDS: '3600', MFA_ASSERTION_KEY_ROTATION_DAYS: '7' });
    expect(config).to.include({ assertionIssuer: 'https://mfa.internal', assertionTtlSeconds: 3600, assertionKeyRotationDays: 7 });
  });

  for (const [what, env, message] of [
    ['an issuer with a space', { MFA_ASSERTION_ISSUER: 'mfa service' }, /^MFA_ASSERTION_ISSUER must be 1 to 256 printable ASCII characters without spaces/],
    ['a TTL over an hour', { MFA_ASSERTION_TTL_SECONDS: '3601' }, /^MFA_ASSERTION_TTL_SECONDS must be a whole number from 10 to 3600, got "3601"$/],
    ['a rotation of 0 days', { MFA_ASSERTION_KEY_ROTATION_DAYS: '0' }, /^MFA_ASSERTION_KEY_ROTATION_DAYS must be a whole number from 1 to 365, got "0"$/],
  ] as const) {
    it(`stops start-up with a one-line ConfigError naming it for ${what}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }
});
