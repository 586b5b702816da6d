import { expect } from 'chai';
import { MfaServiceService } from '../../src/gen/mfa/v1/mfa.js';
import { RpcMetrics } from '../../src/grpc/rpc-metrics.js';
import { RPC_POLICIES, type RpcPolicies } from '../../src/grpc/rpc-policies.js';
import { createUnary } from '../../src/grpc/unary.js';
import { createLogger } from '../../src/logger.js';

describe('RPC_POLICIES', () => {
  const logger = createLogger('silent');
  const unaryWith = (policies: RpcPolicies) =>
    createUnary({
      serviceName: 'mfa.v1.MfaService',
      logger,
      authenticator: null,
      adminCallers: new Set(),
      eventCallers: new Set(),
      metrics: new RpcMetrics(),
      policies,
    });

  it('has one entry per method of the generated MfaService definition', () => {
    const methods = Object.values(MfaServiceService).map((m) => m.path.split('/').pop()).sort();
    expect(Object.keys(RPC_POLICIES).sort()).to.deep.equal(methods);
    expect(() => unaryWith(RPC_POLICIES)).to.not.throw();
  });

  it('makes only ResetMfa and ListAuditEvents admin-only', () => {
    const admin = Object.entries(RPC_POLICIES).filter(([, p]) => p.access === 'admin').map(([name]) => name);
    expect(admin).to.deep.equal(['ResetMfa', 'ListAuditEvents']);
  });

  context('when a method of the service has no entry', () => {
    it('fails start-up (creating the middleware) naming the method', () => {
      const { ResetMfa: _left, ...incomplete } = RPC_POLICIES;
      expect(() => unaryWith(incomplete as unknown as RpcPolicies)).to.throw(/no RPC policy for MfaService method\(s\) ResetMfa/);
    });
  });

  context('when the table names a method the service does not have', () => {
    it('fails start-up naming it', () => {
      const extra = { ...RPC_POLICIES, DeleteEverything: RPC_POLICIES.GetMfaStatus } as unknown as RpcPolicies;
      expect(() => unaryWith(extra)).to.throw(/RPC_POLICIES names DeleteEverything/);
    });
  });
});
