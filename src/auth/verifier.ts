import { verifyDetached, verifyPrivate, type Pkcs7Result, type PrivateResult } from './pkcs7.js';
import { checkSignatureListFormat, type SignatureListProblem } from './siglist-rules.js';

/** The key databases whose payloads get edk2's signature-list format check. */
export type KeyDatabase = 'PK' | 'KEK' | 'db' | 'dbx' | 'dbt' | 'dbr';

/**
 * The CPU-heavy steps of an authenticated write (issue 18): PKCS#7 decoding,
 * the signer lookup, the trust walk and the X.509 parsing of a key database's
 * signature lists. All three are pure functions of bytes the caller copies in,
 * so a host may run them elsewhere (the daemon: a worker thread, so one VM's
 * write never stalls the event loop that serves the others) and get exactly the
 * answer the in-process functions give. Everything else of the write — the
 * rules around these checks, the store, the commit — stays in the service, in
 * its per-VM order.
 */
export interface AuthVerifier {
  verifyDetached(certData: Uint8Array, content: Uint8Array, anchors: readonly Uint8Array[]): Promise<Pkcs7Result>;
  verifyPrivate(certData: Uint8Array, content: Uint8Array): Promise<PrivateResult>;
  signatureListFormat(variable: KeyDatabase, data: Uint8Array): Promise<SignatureListProblem | undefined>;
}

/** The checks on the calling thread (browser, CLI, replay, tests). */
export const inProcessVerifier: AuthVerifier = {
  verifyDetached: (certData, content, anchors) => verifyDetached(certData, content, anchors),
  verifyPrivate: (certData, content) => verifyPrivate(certData, content),
  signatureListFormat: async (variable, data) => checkSignatureListFormat(variable, data),
};
