// PLACEHOLDER — the auth-crypto helper replaces this file. Contract used by auth/.

export interface SignatureList {
  type: string;            // GUID text
  headerSize: number;
  signatureSize: number;
  header: Uint8Array;
  /** Each EFI_SIGNATURE_DATA: owner GUID text + data. */
  entries: { owner: string; data: Uint8Array }[];
}

/** Strict parse of a concatenation of EFI_SIGNATURE_LISTs; undefined if malformed. */
export function parseSignatureLists(_data: Uint8Array): SignatureList[] | undefined {
  return undefined;
}

/** DER certificates of every EFI_CERT_X509 entry (trust anchors), in order. */
export function x509Certificates(_data: Uint8Array): Uint8Array[] {
  return [];
}
