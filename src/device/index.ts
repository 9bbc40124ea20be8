/** The device model's public surface (DESIGN.md: device/ is embedded by JS VMMs). */
export { UefiVarsDevice, type UefiVarsDeviceOptions, type UefiVarsDeviceState } from './uefi-vars-device.js';
export { ArrayGuestMemory, type GuestMemory } from './guest-memory.js';
export { Edk2MmDriver, deviceToEfi, type RegisterPort, type Edk2DriverOptions, type SendOptions, type SendResult } from './edk2-driver.js';
export { crc32c } from '../wire/crc32c.js';
export { Reg, Cmd, Flag, DeviceStatus, UEFI_VARS_MAGIC, REGS_SIZE, MAX_BUFFER_SIZE, X64_MMIO_BASE, type AccessSize } from './registers.js';
