import { CRLDistributionPointsExtension, X509Certificate } from '@peculiar/x509';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Whether a certificate names a CRL distribution point. @simplewebauthn/server
 * 13.x downloads the CRL of every such certificate it meets on a certificate
 * path (its isCertRevoked), and passes when the download fails; the service
 * downloads nothing (issue 23), so it lets no such certificate reach the
 * library: a root that names one is refused at start-up, an attestation
 * certificate that names one refuses the registration.
 */
export function namesCrlDistributionPoint(certificate: X509Certificate): boolean {
  return certificate.getExtension(CRLDistributionPointsExtension) !== null;
}

/**
 * The PEM certificates of MFA_WEBAUTHN_ATTESTATION_ROOTS' file, each checked
 * to parse and to name no CRL distribution point. Throws an Error whose
 * message says what is wrong (the caller names the setting).
 */
export function parseAttestationRoots(text: string): string[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate (-----BEGIN CERTIFICATE-----) in it');
  return blocks.map((pem, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new Error(`certificate ${index + 1} does not parse`);
    }
    if (namesCrlDistributionPoint(certificate)) {
      throw new Error(`certificate ${index + 1} (${certificate.subject}) names a CRL distribution point, which the verifier would download`);
    }
    return certificate.toString('pem');
  });
}
