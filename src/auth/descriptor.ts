import { Guids, guidAt } from '../wire/guid.js';

/**
 * EFI_VARIABLE_AUTHENTICATION_2 (UEFI 2.10 §8.2.2; spec §4.1):
 * EFI_TIME (16) ‖ WIN_CERTIFICATE_UEFI_GUID { dwLength u32, wRevision u16,
 * wCertificateType u16, CertType GUID } ‖ CertData (dwLength − 24) ‖ payload.
 */
export const AUTH2_HEADER_SIZE = 40;
export const WIN_CERT_UEFI_GUID_HEADER = 24;
export const WIN_CERT_REVISION = 0x0200;
export const WIN_CERT_TYPE_EFI_GUID = 0x0ef1;

export type DescriptorProblem = 'short' | 'cert-length' | 'revision' | 'cert-type';

export interface Auth2Descriptor {
  time: Uint8Array;
  certData: Uint8Array;
  payload: Uint8Array;
}

/**
 * Parse without trusting any length. Checks, in QEMU's order (spec §4.1):
 * DataSize < 40, dwLength < 24 (QEMU crashed here, spec §10.1), 16 + dwLength >
 * DataSize, then revision and certificate type.
 */
export function parseAuth2(data: Uint8Array): Auth2Descriptor | DescriptorProblem {
  if (data.length < AUTH2_HEADER_SIZE) return 'short';
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dwLength = v.getUint32(16, true);
  if (dwLength < WIN_CERT_UEFI_GUID_HEADER) return 'cert-length';
  if (16 + dwLength > data.length) return 'cert-length';
  if (v.getUint16(20, true) !== WIN_CERT_REVISION) return 'revision';
  if (v.getUint16(22, true) !== WIN_CERT_TYPE_EFI_GUID || guidAt(data, 24) !== Guids.certTypePkcs7) return 'cert-type';
  return {
    time: data.slice(0, 16),
    certData: data.subarray(AUTH2_HEADER_SIZE, 16 + dwLength),
    payload: data.subarray(16 + dwLength),
  };
}
