/** Which check a security key's answer failed, as the log says it: never the library's message, which quotes the live challenge. */
export type FailureLabel =
  | 'origin' | 'rp id' | 'challenge' | 'signature' | 'user verification' | 'counter'
  | 'attestation format' | 'self attestation' | 'attestation CRL' | 'attestation certificate' | 'attestation chain'
  | 'other';

/**
 * The label of an error thrown by @simplewebauthn/server's verify functions
 * (read from the start of its message, which is all that is kept: a wrong
 * challenge's message names the expected one, still valid for a retry).
 */
export function failureLabel(error: unknown): FailureLabel {
  const message = error instanceof Error ? error.message : '';
  // MFA_WEBAUTHN_ATTESTATION=direct: screenAttestation's refusals, then the library's certificate path.
  if (/^self attestation/.test(message)) return 'self attestation';
  if (/^attestation format/.test(message)) return 'attestation format';
  if (/CRL distribution point/.test(message)) return 'attestation CRL';
  if (/certificate does not parse/.test(message)) return 'attestation certificate';
  if (/could not be chained|certificate path|root certificate/i.test(message)) return 'attestation chain';
  if (/response origin/.test(message)) return 'origin';
  if (/RP ID/.test(message)) return 'rp id';
  if (/challenge/.test(message)) return 'challenge';
  if (/user (verification|could not be verified|not present|presence)/i.test(message)) return 'user verification';
  if (/counter/.test(message)) return 'counter';
  if (/signature/i.test(message)) return 'signature';
  return 'other';
}
