// PLACEHOLDER — the auth-crypto helper replaces this file. Contract used by auth/.

export type SignatureListProblem = 'malformed' | 'bad-size' | 'bad-x509' | 'pk-multiple' | 'unknown-type';

/**
 * edk2 AuthVariableLib CheckSignatureListFormat for PK/KEK/db/dbx/dbt/dbr payloads:
 * undefined when valid, else the problem (the caller answers EFI_INVALID_PARAMETER).
 */
export function checkSignatureListFormat(_variable: 'PK' | 'KEK' | 'db' | 'dbx' | 'dbt' | 'dbr', _data: Uint8Array): SignatureListProblem | undefined {
  return undefined;
}

/**
 * edk2 FilterSignatureList for APPEND_WRITE: drop from `incoming` every
 * EFI_SIGNATURE_DATA already present in `existing` in a list of the same type and
 * SignatureSize; keep the remaining entries of each incoming list under a copy of
 * that list's header; drop lists left empty. Returns the bytes to append.
 */
export function filterAppend(_existing: Uint8Array, incoming: Uint8Array): Uint8Array {
  return incoming;
}
