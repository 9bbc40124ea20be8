import { Owners } from '../auth/esl-build.js';
import type { GuidText } from '../wire/guid.js';
import { CERT_DER_BASE64, type BundledCert } from './enroll-certs-data.js';

/**
 * Which bundled certificates virt-fw-vars' shortcuts enroll, as virt-firmware
 * 24.4 defines them (virt/firmware/efi/certs.py and efivar.py, read from the
 * 24.2 → 24.4 source diff): REDHAT_PK for --enroll-redhat; MS_KEK_2011/2023
 * chosen by --microsoft-kek; add_microsoft_keys = Windows PCA 2011, Windows
 * UEFI CA 2023, MS UEFI CA 2011, MS UEFI CA 2023 (in that order, owner
 * Microsoft); DISTRO_CA for --distro-keys (owner OvmfEnrollDefaultKeys).
 */

const cache = new Map<BundledCert, Uint8Array>();

export function bundledCert(name: BundledCert): Uint8Array {
  let der = cache.get(name);
  if (!der) { der = new Uint8Array(Buffer.from(CERT_DER_BASE64[name], 'base64')); cache.set(name, der); }
  return der;
}

export interface OwnedCert { owner: GuidText; cert: BundledCert }

export type MicrosoftKek = 'none' | '2011' | '2023' | 'all';
export const MICROSOFT_KEK_CHOICES: readonly MicrosoftKek[] = ['none', '2011', '2023', 'all'];

/** KEK entries after the platform certificate (efivar.py enroll_platform_with_cert). */
export function microsoftKek(choice: MicrosoftKek): OwnedCert[] {
  const out: OwnedCert[] = [];
  if (choice === '2011' || choice === 'all') out.push({ owner: Owners.microsoft, cert: 'msKek2011' });
  if (choice === '2023' || choice === 'all') out.push({ owner: Owners.microsoft, cert: 'msKek2023' });
  return out;
}

/**
 * db entries: `virt-fw-vars` is virt-firmware 24.4's add_microsoft_keys (the
 * default); the rest are this tool's --microsoft-db choices, which also know
 * the Microsoft Option ROM UEFI CA 2023 (24.4 does not bundle it).
 */
export type MicrosoftDb = 'none' | '2011' | '2023' | 'all' | 'virt-fw-vars';
export const MICROSOFT_DB_CHOICES: readonly MicrosoftDb[] = ['none', '2011', '2023', 'all'];

export function microsoftDb(choice: MicrosoftDb): OwnedCert[] {
  const pick: Record<MicrosoftDb, BundledCert[]> = {
    'none': [],
    'virt-fw-vars': ['msWin2011', 'msWin2023', 'ms3rd2011', 'ms3rd2023'],
    '2011': ['msWin2011', 'ms3rd2011'],
    '2023': ['msWin2023', 'ms3rd2023', 'msRom2023'],
    'all': ['msWin2011', 'msWin2023', 'ms3rd2011', 'ms3rd2023', 'msRom2023'],
  };
  return pick[choice].map((cert) => ({ owner: Owners.microsoft, cert }));
}

/** virt-firmware 24.4 DISTRO_CA, in its order (`--distro-list` prints it so). */
export const DISTROS: ReadonlyArray<{ name: string; desc: string; certs: BundledCert[] }> = [
  { name: 'windows', desc: 'Microsoft Windows', certs: ['msWin2011', 'msWin2023'] },
  { name: 'ms-uefi', desc: 'Microsoft UEFI CA', certs: ['ms3rd2011', 'ms3rd2023'] },
  { name: 'rhel-2014', desc: 'Red Hat Enterprise Linux (obsoleted by 2020 signing key rotation)', certs: ['rhCa3'] },
  { name: 'rhel', desc: 'Red Hat Enterprise Linux', certs: ['rhCa5', 'rhCa8'] },
  { name: 'rh-uefi', desc: 'Red Hat UEFI CA', certs: ['rhUefi2024'] },
  { name: 'fedora', desc: 'Fedora Linux', certs: ['fedora2020'] },
  { name: 'centos-2018', desc: 'CentOS Stream (obsoleted by 2020 signing key rotation)', certs: ['centosKey1'] },
  { name: 'centos', desc: 'CentOS Stream', certs: ['centosCa2'] },
];

export function distroCerts(name: string): OwnedCert[] | undefined {
  return DISTROS.find((d) => d.name === name)?.certs.map((cert) => ({ owner: Owners.ovmfEnrollDefaultKeys, cert }));
}

/** certs.list_distros() */
export function distroListText(): string {
  return ['known distro certs:', ...DISTROS.map((d) => `  ${d.name.padEnd(12)} - ${d.desc}`)].join('\n');
}
