/** EFI_STATUS values (64-bit, spec §2.4). */
export const EfiStatus = {
  SUCCESS: 0x0n,
  INVALID_PARAMETER: 0x8000000000000002n,
  UNSUPPORTED: 0x8000000000000003n,
  BAD_BUFFER_SIZE: 0x8000000000000004n,
  BUFFER_TOO_SMALL: 0x8000000000000005n,
  NOT_READY: 0x8000000000000006n,
  DEVICE_ERROR: 0x8000000000000007n,
  WRITE_PROTECTED: 0x8000000000000008n,
  OUT_OF_RESOURCES: 0x8000000000000009n,
  NOT_FOUND: 0x800000000000000En,
  ACCESS_DENIED: 0x800000000000000Fn,
  TIMEOUT: 0x8000000000000012n,
  ALREADY_STARTED: 0x8000000000000014n,
  ABORTED: 0x8000000000000015n,
  SECURITY_VIOLATION: 0x800000000000001An,
} as const;

export type EfiStatusName = keyof typeof EfiStatus;
export type EfiStatusValue = (typeof EfiStatus)[EfiStatusName];

const byValue = new Map<bigint, EfiStatusName>();
for (const [k, v] of Object.entries(EfiStatus)) byValue.set(v, k as EfiStatusName);

/** `EFI_SUCCESS`, `EFI_NOT_FOUND`, …; unknown values print as hex. */
export function statusName(v: bigint): string {
  const n = byValue.get(v);
  return n ? `EFI_${n}` : `0x${v.toString(16).padStart(16, '0')}`;
}

export function statusFromName(name: string): bigint | undefined {
  const key = name.startsWith('EFI_') ? name.slice(4) : name;
  return (EfiStatus as Record<string, bigint>)[key];
}

/** Device (CMD_STS) status codes, spec §1.4. */
export const DeviceStatus = {
  SUCCESS: 0x00,
  BUSY: 0x01,
  ERR_UNKNOWN: 0x10,
  ERR_NOT_SUPPORTED: 0x11,
  ERR_BAD_BUFFER_SIZE: 0x12,
} as const;
export type DeviceStatusValue = (typeof DeviceStatus)[keyof typeof DeviceStatus];
