import { readFile } from 'node:fs/promises';
import { parseCertificate } from '../auth/x509.js';
import { pemBody } from '../auth/sign.js';
import { UsageError } from './command.js';

/** Reading certificates and keys for the signing commands: PEM or DER, one-line errors naming the file. */
export async function readInput(path: string): Promise<Uint8Array> {
  try { return new Uint8Array(await readFile(path)); } catch (e) {
    throw new UsageError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

const isPem = (b: Uint8Array): boolean => new TextDecoder().decode(b.subarray(0, 4096)).includes('-----BEGIN ');

/** A certificate's DER, from a PEM "CERTIFICATE" block or DER; undefined if it is neither. */
export function certificateDer(bytes: Uint8Array): Uint8Array | undefined {
  const der = isPem(bytes) ? pemBody(new TextDecoder().decode(bytes), 'CERTIFICATE') : bytes;
  return der && parseCertificate(der) ? der : undefined;
}

export async function readCertificate(path: string): Promise<Uint8Array> {
  const der = certificateDer(await readInput(path));
  if (!der) throw new UsageError(`${path}: not an X.509 certificate (PEM or DER)`);
  return der;
}

/** A private key as importSigningKey takes it: PEM text, or PKCS#8 DER. */
export async function readPrivateKey(path: string): Promise<string | Uint8Array> {
  const b = await readInput(path);
  return isPem(b) ? new TextDecoder().decode(b) : b;
}
