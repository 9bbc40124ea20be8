/**
 * `uefi-vars/client`: the guest side of the edk2 MM variable protocol, for
 * testing any implementation of QEMU's uefi-vars device (docs/conformance.md).
 * Pure: runs in a browser. Socket and QEMU (qtest) transports, which need
 * Node, are in `uefi-vars/client/node`.
 */
export { GuestClient, MmCallError, type GetResult, type NextResult, type QueryResult, type VariableId, type Name } from './guest-client.js';
export {
  TargetCrashed, TargetHung,
  type Transport, type Target, type MmExchange, type RegisterAccess, type DeviceConfig, type Width,
} from './transport.js';
export { InProcessTransport, inProcessTarget, DEFAULT_BUFFER_ADDRESS, type InProcessTargetOptions } from './inproc.js';
export { RegisterDriver, RegisterDriverError } from './register-driver.js';
export { PolicyCommand, LockPolicy, policyRequest, policyResult, encodePolicyEntry, type PolicyEntry } from './policy-requests.js';
export * from './requests.js';
