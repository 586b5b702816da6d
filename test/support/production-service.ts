import type { RealStores } from './e2e-fixture.js';
import { bearer, connectClient, type MfaClient } from './grpc-client.js';
import { startTestService, type TestService } from './test-service.js';

export const LOGIN_TOKEN = 'login-token-0123456789abcdef';
export const SUPPORT_TOKEN = 'support-token-0123456789abcdef';
/** As in production: two callers with tokens, one of them an admin, and metrics on a port. */
export const AUTH_ENV = {
  MFA_AUTH_TOKENS: `login-service:${LOGIN_TOKEN},support-console:${SUPPORT_TOKEN}`,
  MFA_ADMIN_CALLERS: 'support-console',
  METRICS_PORT: '0',
  METRICS_HOST: '127.0.0.1',
};

export interface ProductionService {
  svc: TestService;
  /** Calls as login-service, an ordinary caller. */
  login: MfaClient;
  /** Calls as support-console, an admin caller. */
  support: MfaClient;
}

/** Starts, for the production-*.spec files, the service configured as in production, with a client per caller. */
export function useProductionService(stores: RealStores): ProductionService {
  const holder = {} as ProductionService;
  before(async () => {
    holder.svc = await startTestService({ ...stores.env, ...AUTH_ENV });
    stores.cleanups.push(() => holder.svc.stop());
    holder.login = connectClient(holder.svc.service.port, { metadata: () => bearer(LOGIN_TOKEN) });
    holder.support = connectClient(holder.svc.service.port, { metadata: () => bearer(SUPPORT_TOKEN) });
    stores.cleanups.push(async () => {
      holder.login.close();
      holder.support.close();
    });
  });
  return holder;
}
