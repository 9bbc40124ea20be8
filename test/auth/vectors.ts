/**
 * Reading the shared real-world material (../shared/vectors) for the auth and siglist
 * tests. The EFI_VARIABLE_AUTHENTICATION_2 layout is decoded here by hand, independently
 * of src/, so the tests check the product against the spec rather than against itself.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const VECTORS = path.resolve(process.cwd(), '../shared/vectors');

export function vector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(VECTORS, rel)));
}

export function vectorJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(path.join(VECTORS, rel), 'utf8')) as T;
}

export const GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
export const SECURITY_GUID = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';

/** EFI byte order of a GUID, written out independently of src/wire/guid.ts. */
export function guidLe(text: string): Uint8Array {
  const h = text.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  const out = Buffer.from(b);
  out[0] = b[3]!; out[1] = b[2]!; out[2] = b[1]!; out[3] = b[0]!;
  out[4] = b[5]!; out[5] = b[4]!;
  out[6] = b[7]!; out[7] = b[6]!;
  return new Uint8Array(out);
}

export function ucs2(name: string): Uint8Array {
  return new Uint8Array(Buffer.from(name, 'utf16le'));
}

export interface PayloadJson {
  variable: { name: string; vendor_guid: string };
  pkcs7: {
    certificates: { subject: string; issuer: string; serial_hex: string; sha256: string; key: string; self_signed: boolean }[];
    signerInfos: { authenticatedAttributes: string[] | null; issuerAndSerial_serial_hex: string }[];
    signer: { subject: string; sha256: string; serial_hex: string };
  };
  payload: {
    offset: number;
    length: number;
    signature_lists: { type: string; SignatureSize: number; SignatureHeaderSize: number; SignatureListSize: number; count: number;
      entries: { owner: string; data?: string; x509?: { subject: string; sha256: string } }[] }[];
  };
  mutation_offsets: { signature_value_first_byte: number; signature_value_length: number; payload_first_entry_data: number };
}

export interface SignedFile {
  /** e.g. `dbx/DBXUpdate_amd64.bin` */
  rel: string;
  file: string;
  variable: 'db' | 'dbx' | 'KEK';
  guid: string;
  bytes: Uint8Array;
  time: Uint8Array;
  dwLength: number;
  certData: Uint8Array;
  payload: Uint8Array;
  json: PayloadJson;
}

/** Split one SetVariable Data buffer: EFI_TIME @0, dwLength u32 @16, CertData @40 .. 16+dwLength, payload after. */
export function splitAuth2(bytes: Uint8Array): { time: Uint8Array; dwLength: number; certData: Uint8Array; payload: Uint8Array } {
  const dwLength = Buffer.from(bytes).readUInt32LE(16);
  return { time: bytes.subarray(0, 16), dwLength, certData: bytes.subarray(40, 16 + dwLength), payload: bytes.subarray(16 + dwLength) };
}

export function loadSigned(rel: string): SignedFile {
  const bytes = vector(`signed/${rel}`);
  const file = path.basename(rel);
  const json = vectorJson<PayloadJson>(`reference/payloads/${file}.json`);
  const variable = json.variable.name as SignedFile['variable'];
  return { rel, file, variable, guid: json.variable.vendor_guid, bytes, ...splitAuth2(bytes), json };
}

export function signedFiles(): SignedFile[] {
  const out: SignedFile[] = [];
  for (const dir of ['db', 'dbx', 'kek']) {
    for (const f of readdirSync(path.join(VECTORS, 'signed', dir)).sort()) out.push(loadSigned(`${dir}/${f}`));
  }
  return out;
}

/** Spec §4.2: Name (UCS-2, no NUL) ‖ VendorGuid ‖ Attributes u32 LE ‖ TimeStamp ‖ payload. */
export function signedData(f: Pick<SignedFile, 'variable' | 'guid' | 'time' | 'payload'>, attributes = 0x67, name: string = f.variable): Uint8Array {
  const attr = Buffer.alloc(4);
  attr.writeUInt32LE(attributes);
  return new Uint8Array(Buffer.concat([ucs2(name), guidLe(f.guid), attr, f.time, f.payload]));
}

export const MS_KEK_CA_2011 = 'certs/microsoft/MicCorKEKCA2011_2011-06-24.der';

/** The certificate each payload is documented to verify against (README "Signed payloads"). */
export function anchorFor(f: SignedFile): Uint8Array {
  return f.variable === 'KEK' ? vector(`certs/oem-pk/${f.file.replace(/\.bin$/, '.signer.der')}`) : vector(MS_KEK_CA_2011);
}

/** One variable's data from a QEMU uefi-vars JSON (virt-fw-vars output). */
export function jsonVariable(rel: string, name: string): Uint8Array | undefined {
  const store = vectorJson<{ variables: { name: string; data: string }[] }>(rel);
  const v = store.variables.find((x) => x.name === name);
  return v && new Uint8Array(Buffer.from(v.data, 'hex'));
}

/** One variable's data from the efivarfs dump (u32 LE attributes, then data). */
export function efivarfsData(file: string): Uint8Array {
  return vector(`varstores/efivarfs/shim-test-data-efivars-1/${file}`).subarray(4);
}
