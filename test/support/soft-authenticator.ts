import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';

/** A full (x5c) attestation: the certificate chain, leaf first (DER), and the leaf's P-256 private key. */
export interface AttestationCertificate {
  readonly chain: readonly Buffer[];
  readonly privateKey: KeyObject;
}

/**
 * A software security key for the tests (issue 23): real WebAuthn
 * registration responses (attestation `none`, `packed` self-attestation, or
 * `packed` full attestation with an x5c chain from test/support/attestation-ca.ts)
 * and assertion responses, signed with an ES256 (P-256) or Ed25519 key from
 * node:crypto and encoded with the CBOR library @simplewebauthn/server uses.
 * It holds one credential, made by register(). The origin, RP ID, user
 * verification and signature counter are the test's to choose, so that each
 * check of the server can be made to fail on its own.
 */
export class SoftAuthenticator {
  readonly algorithm: 'ES256' | 'Ed25519';
  readonly attestation: 'none' | 'packed';
  /** The counter of the last assertion (the next one carries one more); stays 0 with counterless. */
  signCount = 0;
  origin: string;
  rpId: string;
  userVerified: boolean;
  readonly counterless: boolean;
  readonly aaguid: Buffer;
  readonly backupEligible: boolean;
  /** The BS flag: the credential is synced (only with backupEligible). */
  backedUp: boolean;
  readonly #keys: { privateKey: KeyObject; publicKey: KeyObject };
  readonly #attestationCertificate: AttestationCertificate | undefined;
  readonly credentialId = randomBytes(32);
  /** The user handle of the options register() answered. */
  userHandle = '';

  constructor(options: {
    readonly origin: string;
    readonly rpId: string;
    readonly algorithm?: 'ES256' | 'Ed25519';
    readonly attestation?: 'none' | 'packed';
    readonly userVerified?: boolean;
    readonly counterless?: boolean;
    readonly backupEligible?: boolean;
    /** With attestation `packed`: sign the attestation with this certificate's key and send its chain as x5c. */
    readonly attestationCertificate?: AttestationCertificate;
  }) {
    this.origin = options.origin;
    this.rpId = options.rpId;
    this.algorithm = options.algorithm ?? 'ES256';
    this.attestation = options.attestation ?? 'none';
    this.userVerified = options.userVerified ?? true;
    this.counterless = options.counterless ?? false;
    this.backupEligible = options.backupEligible ?? false;
    this.backedUp = this.backupEligible;
    this.#attestationCertificate = options.attestationCertificate;
    this.aaguid = Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');
    this.#keys = this.algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  }

  /** The credential id as the server sees it (base64url). */
  get id(): string {
    return this.credentialId.toString('base64url');
  }

  /** Answers BeginWebAuthnRegistration's options_json with a RegistrationResponseJSON (as a string). */
  register(optionsJson: string): string {
    const options = JSON.parse(optionsJson) as { challenge: string; user: { id: string } };
    this.userHandle = options.user.id;
    const clientData = this.#clientData('webauthn.create', options.challenge);
    const attested = Buffer.concat([this.aaguid, u16(this.credentialId.length), this.credentialId, Buffer.from(encodeCBOR(this.#coseKey()))]);
    const authData = Buffer.concat([this.#authDataHead(0x40, this.counterless ? 0 : this.signCount), attested]);
    const attStmt = new Map<string, CBORType>();
    const full = this.#attestationCertificate;
    if (this.attestation === 'packed' && full !== undefined) {
      // Full attestation (WebAuthn §8.2): ES256 by the attestation certificate's key, its chain as x5c.
      attStmt.set('alg', -7);
      attStmt.set('sig', sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientData).digest()]), full.privateKey));
      attStmt.set('x5c', [...full.chain]);
    } else if (this.attestation === 'packed') {
      attStmt.set('alg', this.#coseAlg());
      attStmt.set('sig', this.#sign(authData, clientData));
    }
    const attestationObject = encodeCBOR(new Map<string, CBORType>([['fmt', this.attestation], ['attStmt', attStmt], ['authData', authData]]));
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['usb', 'nfc'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    });
  }

  /** Answers BeginWebAuthnAuthentication's options_json with an AuthenticationResponseJSON (as a string). */
  assert(optionsJson: string): string {
    const options = JSON.parse(optionsJson) as { challenge: string };
    const clientData = this.#clientData('webauthn.get', options.challenge);
    // As a key does: the counter moves before each assertion.
    if (!this.counterless) this.signCount += 1;
    const count = this.counterless ? 0 : this.signCount;
    const authData = this.#authDataHead(0, count);
    return JSON.stringify({
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: this.#sign(authData, clientData).toString('base64url'),
        userHandle: this.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    });
  }

  #clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** rpIdHash, flags (UP, UV, BE, BS and `extra`), signCount: WebAuthn §6.1. */
  #authDataHead(extra: number, count: number): Buffer {
    const flags = 0x01 | (this.userVerified ? 0x04 : 0) | (this.backupEligible ? 0x08 : 0) | (this.backupEligible && this.backedUp ? 0x10 : 0) | extra;
    return Buffer.concat([createHash('sha256').update(this.rpId).digest(), Buffer.from([flags]), u32(count)]);
  }

  #coseAlg(): number {
    return this.algorithm === 'ES256' ? -7 : -8;
  }

  /** The credential public key as COSE_Key (RFC 9052 §7; RFC 9053 §2.1, §2.2). */
  #coseKey(): Map<number, CBORType> {
    const jwk = this.#keys.publicKey.export({ format: 'jwk' });
    if (this.algorithm === 'ES256') {
      return new Map<number, CBORType>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]);
    }
    return new Map<number, CBORType>([[1, 1], [3, -8], [-1, 6], [-2, Buffer.from(jwk.x!, 'base64url')]]);
  }

  /** A signature over authenticatorData ‖ SHA-256(clientDataJSON) (WebAuthn §6.3.3); ECDSA in DER, as WebAuthn wants. */
  #sign(authData: Buffer, clientData: Buffer): Buffer {
    const signed = Buffer.concat([authData, createHash('sha256').update(clientData).digest()]);
    return this.algorithm === 'ES256' ? sign('sha256', signed, this.#keys.privateKey) : sign(null, signed, this.#keys.privateKey);
  }
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}
