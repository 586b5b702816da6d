/**
 * Prints the current TOTP code for a base32 secret, as an authenticator app
 * would show it: for trying the service with grpcurl without a phone.
 *   npx tsx scripts/totp-code.ts JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
 */
import { generateTotp } from '../src/domain/totp.js';

const secret = process.argv[2];
if (secret === undefined || !/^[A-Z2-7]+=*$/i.test(secret)) {
  process.stderr.write('usage: npx tsx scripts/totp-code.ts <base32 secret from BeginTotpEnrollment>\n');
  process.exit(2);
}
process.stdout.write(`${generateTotp(secret.toUpperCase(), new Date())}\n`);
