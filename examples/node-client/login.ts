/**
 * The second step of a login, as a login service does it with the typed
 * client: is MFA on for the user, and is this code right? Plaintext on
 * localhost, as `npm start` serves the service; an ES module (package.json
 * "type": "module"), for the top-level await.
 *
 *   npm install && npm run build
 *   node dist/login.js alice 123456
 */
import { createMfaClient, MfaClientError } from 'mfa-service/client';

const [userId = 'alice', code = ''] = process.argv.slice(2);

const mfa = createMfaClient({
  address: process.env['MFA_ADDRESS'] ?? 'localhost:50051',
  token: process.env['MFA_TOKEN'], // this caller's token from the service's MFA_AUTH_TOKENS; none when it has none
  // tls: { ca: readFileSync('ca.crt') },  // with GRPC_TLS_CERT on the service; add cert and key for mutual TLS
  deadlineMs: 2000, // each call's deadline unless it sets its own (default 5000)
});

try {
  const { enabled } = await mfa.getMfaStatus({ userId }, { deadlineMs: 500, requestId: 'req-42' });
  if (!enabled) {
    console.log(`${userId}: no MFA; the password was enough`);
  } else {
    const { deviceToken } = await mfa.verifyTotp({ userId, code, rememberDevice: true, deviceLabel: 'example' });
    console.log(`${userId}: code accepted; this device is remembered (a token of ${deviceToken.length} characters)`);
  }
} catch (error) {
  if (!(error instanceof MfaClientError)) throw error;
  if (error.reason === 'INVALID_CODE' || error.reason === 'CODE_REUSED') console.log(`${userId}: wrong code (${error.reason}); ask again`);
  else if (error.reason === 'LOCKED_OUT') console.log(`${userId}: locked out for ${error.retryDelayMs} ms`);
  else if (error.reason === 'INVALID_REQUEST') console.log(`${userId}: ${error.fieldViolations.map((v) => `${v.field} ${v.description}`).join('; ')}`);
  else throw error;
  process.exitCode = 1;
} finally {
  mfa.close();
}
