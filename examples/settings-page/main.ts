/**
 * `npm run demo`: the settings page of issue 24 on http://localhost:8080
 * (DEMO_PORT). It calls the MFA service named by MFA_ADDR, or starts one
 * itself (embedded stores, or REDIS_URL and MONGO_URL with
 * MFA_ENCRYPTION_KEYS, as the service reads them).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { activityRoutes } from './backend/activity-routes.js';
import { createBackend } from './backend/backend.js';
import { DemoConfigError, loadDemoConfig, type DemoConfig } from './backend/demo-config.js';
import { enrollmentRoutes } from './backend/enrollment-routes.js';
import { securityKeyRoutes } from './backend/security-key-routes.js';
import { settingsRoutes } from './backend/settings-routes.js';
import { signInRoutes } from './backend/sign-in-routes.js';
import { startService } from './backend/start-service.js';
import { startWebApp } from './backend/web-app.js';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const log = (line: string) => process.stdout.write(`settings-page: ${line}\n`);
function fail(error: Error): never {
  process.stderr.write(`settings-page: ${error.message}\n`);
  process.exit(1);
}

let config: DemoConfig;
try {
  config = loadDemoConfig();
} catch (error) {
  if (!(error instanceof DemoConfigError)) throw error;
  process.stderr.write(`settings-page: ${error.message}\n`);
  process.exit(2);
}

const started = config.external === null ? await startService(config.port).catch(fail) : null;
if (started !== null) log(`started the MFA service on ${started.address} (its log: ${started.logFile})`);
const backend = createBackend(config.external ?? started!, log);
backend.activity.start();
const routes = [...signInRoutes(backend), ...settingsRoutes(backend), ...enrollmentRoutes(backend), ...securityKeyRoutes(backend), ...activityRoutes(backend)];
const server = await startWebApp(backend, routes, PUBLIC_DIR, config.port).catch(async (error: NodeJS.ErrnoException) => {
  backend.close();
  await started?.stop();
  return fail(error.code === 'EADDRINUSE' ? new Error(`port ${config.port} is in use; set DEMO_PORT`) : error);
});
const address = server.address();
log(`the settings page is on http://localhost:${typeof address === 'object' && address !== null ? address.port : config.port}/ (Ctrl-C stops it)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close();
    backend.close();
    void started?.stop().then(() => process.exit(0));
    if (started === null) process.exit(0);
  });
}
