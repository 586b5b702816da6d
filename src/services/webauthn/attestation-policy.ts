import { SettingsService, type RegistrationResponseJSON } from '@simplewebauthn/server';
import { decodeAttestationObject, isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';
import { X509Certificate } from '@peculiar/x509';
import { namesCrlDistributionPoint } from '../../domain/attestation-certificates.js';
import type { WebAuthnSettings } from '../../domain/webauthn.js';

/** The attestation formats whose certificates (attStmt.x5c) @simplewebauthn/server checks against the roots set for that format. */
const X5C_FORMATS = ['packed', 'fido-u2f', 'tpm', 'android-key', 'apple'] as const;

let installedRoots: string | null = null;

/**
 * With `direct`, gives @simplewebauthn/server the configured roots for every
 * attestation format (its SettingsService, which is per process): they
 * replace the library's built-in Apple and Google roots, so a certificate
 * path is accepted only when it ends in a configured root. FIDO's metadata
 * service is never initialised, so the library does not use it. Two
 * services in one process with different roots would overwrite each other:
 * refused.
 */
export function installAttestationRoots(settings: WebAuthnSettings | null): void {
  if (settings?.attestation !== 'direct') return;
  const key = settings.attestationRoots.join('\n');
  if (installedRoots !== null && installedRoots !== key) throw new Error('one set of MFA_WEBAUTHN_ATTESTATION_ROOTS per process');
  installedRoots = key;
  for (const identifier of [...X5C_FORMATS, 'android-safetynet'] as const) {
    SettingsService.setRootCertificates({ identifier, certificates: [...settings.attestationRoots] });
  }
}

/**
 * Screens a registration response's attestation before the library verifies
 * it, so that the library never meets a certificate whose CRL it would
 * download (it follows CRL distribution points on every certificate path).
 *
 * - `none`: the service neither wants nor judges attestation. A statement
 *   that carries certificates (or a SafetyNet JWS) is replaced by a `none`
 *   statement over the same authenticator data, as a browser does when the
 *   site asks for none; a `none` or self (`packed` without x5c) statement
 *   goes to the library as it is.
 * - `direct`: the statement must be a full attestation (x5c) of one of the
 *   x5c formats, and no certificate in it may name a CRL distribution point;
 *   the library then checks its signature and its path to a configured root.
 *   `none`, self attestation and `android-safetynet` (certificates inside a
 *   JWS; retired by Google) are refused.
 *
 * Throws an Error naming the failed check (for the log; the caller answers
 * WEBAUTHN_INVALID).
 */
export function screenAttestation(settings: WebAuthnSettings, response: RegistrationResponseJSON): RegistrationResponseJSON {
  const decoded = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
  const fmt = decoded.get('fmt');
  const statement = decoded.get('attStmt');
  const x5c = statement.get('x5c');
  if (settings.attestation === 'none') {
    if (x5c === undefined && fmt !== 'android-safetynet') return response;
    const bare = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', decoded.get('authData')]]) as never);
    return { ...response, response: { ...response.response, attestationObject: isoBase64URL.fromBuffer(bare) } };
  }
  if (!(X5C_FORMATS as readonly string[]).includes(fmt)) throw new Error(`attestation format ${fmt} is not accepted with direct attestation`);
  if (x5c === undefined || x5c.length === 0) throw new Error(`self attestation (${fmt} without x5c) is not accepted with direct attestation`);
  for (const der of x5c) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      throw new Error('an attestation certificate does not parse');
    }
    if (namesCrlDistributionPoint(certificate)) throw new Error('an attestation certificate names a CRL distribution point (not downloaded)');
  }
  return response;
}
