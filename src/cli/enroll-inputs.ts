import { readFile } from 'node:fs/promises';
import { parseCertificate } from '../auth/x509.js';
import { parseAuth2 } from '../auth/descriptor.js';
import { INITIAL_TIME, efiTimeOf, newestNotBefore } from '../auth/esl-build.js';
import { parseSignatureLists } from '../wire/siglist.js';
import { decodeTime, encodeTime } from '../wire/time.js';
import { UsageError } from './command.js';

async function read(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: cannot read ${what} (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message})`);
  }
}

/**
 * A certificate file, PEM (the first CERTIFICATE block, text around it
 * allowed, as virt-firmware's PEMs have) or DER; the DER is what gets enrolled.
 */
export async function readCertFile(path: string): Promise<Uint8Array> {
  const bytes = await read(path, 'certificate');
  let der = bytes;
  const text = new TextDecoder('latin1').decode(bytes);
  if (text.includes('-----BEGIN')) {
    const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
    if (!m) throw new UsageError(`${path}: PEM file without a CERTIFICATE block`);
    der = new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  const c = parseCertificate(der);
  if (!c) throw new UsageError(`${path}: not an X.509 certificate (PEM or DER)`);
  return c.der;
}

/**
 * --set-dbx FILE. A signed update (EFI_VARIABLE_AUTHENTICATION_2 + ESL): dbx
 * becomes its payload with its EFI_TIME, which virt-fw-vars reads into a
 * Python datetime (so sub-microsecond digits, TimeZone and Daylight are
 * dropped; a zero year means no time). A bare ESL (virt-fw-vars cannot read
 * one): its newest certificate notBefore, else 2010-01-01, like the other
 * databases. The signature is not checked: the host is the platform owner.
 */
export async function readDbxFile(path: string): Promise<{ data: Uint8Array; time: Uint8Array }> {
  const bytes = await read(path, 'dbx update');
  const auth = parseAuth2(bytes);
  if (typeof auth !== 'string') {
    if (!parseSignatureLists(auth.payload)) throw new UsageError(`${path}: the signed update's payload is not an EFI_SIGNATURE_LIST sequence`);
    const t = decodeTime(auth.time);
    if (t.year === 0) return { data: auth.payload.slice(), time: new Uint8Array(16) };
    const valid = t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour < 24 && t.minute < 60 && t.second < 60 && t.nanosecond < 1e9;
    if (!valid) throw new UsageError(`${path}: the update's EFI_TIME is not a valid date`);
    const time = encodeTime({ ...t, pad1: 0, nanosecond: t.nanosecond - (t.nanosecond % 1000), timeZone: 0, daylight: 0, pad2: 0 });
    return { data: auth.payload.slice(), time };
  }
  const lists = parseSignatureLists(bytes);
  if (!lists || lists.length === 0) throw new UsageError(`${path}: neither a signed dbx update (EFI_VARIABLE_AUTHENTICATION_2) nor an EFI_SIGNATURE_LIST`);
  const nb = newestNotBefore(bytes);
  return { data: bytes, time: nb ? efiTimeOf(nb) : INITIAL_TIME };
}
