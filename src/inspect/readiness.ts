import type { CertificateFacts, KeyDatabase } from './esl.js';
import { certificatesOf } from './esl.js';

/**
 * Microsoft's 2023 Secure Boot certificates, which replace the 2011 ones that
 * expire in 2026. Identified by the SHA-256 of the DER Microsoft publishes (the
 * files in ../shared/vectors/certs/microsoft); a certificate with the same
 * subject but other bytes is reported, not accepted.
 */
export const MICROSOFT_2023 = {
  kek2023: { name: 'Microsoft Corporation KEK 2K CA 2023', database: 'KEK', sha256: '3cd3f0309edae228767a976dd40d9f4affc4fbd5218f2e8cc3c9dd97e8ac6f9d' },
  windowsUefiCa2023: { name: 'Windows UEFI CA 2023', database: 'db', sha256: '076f1fea90ac29155ebf77c17682f75f1fdd1be196da302dc8461e350a9ae330' },
  microsoftUefiCa2023: { name: 'Microsoft UEFI CA 2023', database: 'db', sha256: 'f6124e34125bee3fe6d79a574eaa7b91c0e7bd9d929c1a321178efd611dad901' },
  optionRomUefiCa2023: { name: 'Microsoft Option ROM UEFI CA 2023', database: 'db', sha256: 'e5be3e64c6e66a281457ecdece0d6d0787577aad2a3a0144262c10c14ba8d8f1' },
} as const;

/** The three that "2023-ready" requires (issue 14); the Option ROM CA is reported but optional. */
const REQUIRED = ['kek2023', 'windowsUefiCa2023', 'microsoftUefiCa2023'] as const;

export interface ReadinessItem {
  name: string;
  database: 'KEK' | 'db';
  sha256: string;
  present: boolean;
  required: boolean;
  /** A certificate with this CN but other bytes was found (a lookalike or re-issue): not accepted. */
  sameNameOther?: string;
}

export interface Readiness {
  verdict: '2023-ready' | 'not 2023-ready';
  ready: boolean;
  /** Names of the required certificates that are missing, in the order above. */
  missing: string[];
  items: ReadinessItem[];
}

export function readiness2023(kek: KeyDatabase, db: KeyDatabase): Readiness {
  const byDb: Record<'KEK' | 'db', CertificateFacts[]> = { KEK: certificatesOf(kek), db: certificatesOf(db) };
  const items: ReadinessItem[] = Object.entries(MICROSOFT_2023).map(([key, c]) => {
    const certs = byDb[c.database];
    const present = certs.some((x) => x.sha256 === c.sha256);
    const item: ReadinessItem = { name: c.name, database: c.database, sha256: c.sha256, present, required: (REQUIRED as readonly string[]).includes(key) };
    const other = present ? undefined : certs.find((x) => x.commonName === c.name);
    if (other) item.sameNameOther = other.sha256;
    return item;
  });
  const missing = items.filter((i) => i.required && !i.present).map((i) => `${i.name} (${i.database})`);
  return { verdict: missing.length ? 'not 2023-ready' : '2023-ready', ready: missing.length === 0, missing, items };
}
