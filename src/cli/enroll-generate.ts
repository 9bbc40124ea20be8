import { generateSelfSigned, toPem } from '../auth/cert-build.js';

/**
 * --enroll-generate CN: a fresh self-signed platform certificate, as
 * virt-firmware's certs.pk_generate makes it: RSA-2048, SHA-256, subject =
 * issuer = CN only, a random positive serial, valid from now for 3650 days,
 * basicConstraints cA=FALSE (not critical) — auth/cert-build.ts's `leaf`
 * profile. virt-fw-vars throws the private key away; `--generated-key FILE`
 * keeps it (PKCS#8 PEM).
 */
export interface GeneratedPlatformKey { cert: Uint8Array; keyPkcs8: Uint8Array }

export async function generatePlatformKey(cn: string, now: Date): Promise<GeneratedPlatformKey> {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const { cert, key } = await generateSelfSigned({ cn, notBefore, days: 3650, profile: 'leaf' });
  return { cert, keyPkcs8: key };
}

export { toPem };
