// PLACEHOLDER — the auth-crypto helper replaces this file. Contract used by auth/authenticated-write.ts.

export type Pkcs7Failure =
  | 'malformed'            // not DER PKCS#7 SignedData (bare or ContentInfo-wrapped)
  | 'signer-count'         // not exactly one SignerInfo
  | 'unsupported-digest'   // digest other than SHA-256/384/512
  | 'unsupported-key'      // not RSA 2048..4096
  | 'no-signer-cert'       // the SignerInfo's certificate is not in the PKCS#7
  | 'bad-signature'        // the signature (or messageDigest) does not match
  | 'untrusted';           // no chain from the signer to any anchor

export type Pkcs7Result =
  | { ok: true; signerCert: Uint8Array; chain: Uint8Array[] }
  | { ok: false; reason: Pkcs7Failure; detail: string };

/**
 * Verify a detached PKCS#7 signature over `content` with any of `anchors` (DER
 * X.509) as trust anchor (partial chains allowed; dates, key usage, EKU ignored).
 */
export async function verifyDetached(_certData: Uint8Array, _content: Uint8Array, _anchors: readonly Uint8Array[]): Promise<Pkcs7Result> {
  return { ok: false, reason: 'malformed', detail: 'PKCS#7 verification not implemented yet' };
}

export type PrivateResult =
  | { ok: true; digest: Uint8Array; signerCert: Uint8Array }
  | { ok: false; reason: Pkcs7Failure; detail: string };

/**
 * Private (non Secure Boot) time-based authenticated variable: verify with the top
 * certificate of the signer's chain inside the PKCS#7 as the only anchor, and
 * return QEMU's digest SHA-256(CN(signer) || SHA-256(DER(root))) (spec §4.8).
 */
export async function verifyPrivate(_certData: Uint8Array, _content: Uint8Array): Promise<PrivateResult> {
  return { ok: false, reason: 'malformed', detail: 'PKCS#7 verification not implemented yet' };
}
