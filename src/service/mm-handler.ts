import type { DeviationId } from '../store/deviations.js';
import type { MmReason } from './reasons.js';
/**
 * What a transport (device model, daemon) needs from the service: one MM
 * communicate buffer in, the device status and the buffer to write back out.
 */
export interface MmResult {
  /** CMD_STS after the request (spec §1.4): 0x00, 0x11 or 0x12. */
  deviceStatus: number;
  /**
   * Bytes to write back to the guest buffer (exactly 24 + MessageLength), or
   * undefined when the request was refused before dispatch (spec §1.5 steps 1-3:
   * nothing is written back).
   */
  reply: Uint8Array | undefined;
  /** Named reason for a non-success outcome (logs, metrics); undefined on success. */
  reason?: MmReason | undefined;
  /** The documented deviation from QEMU behind this answer, if any (store/deviations.ts; replay). */
  deviation?: DeviationId | undefined;
}

export interface MmHandler {
  /**
   * Process one request. `request` is valid only until this call returns (the
   * daemon's read buffer is shared, daemon/protocol/read-buffer.ts): an implementation
   * copies what it keeps before it returns, as the service copies the whole
   * request before parsing. `bufferSize` is the negotiated BUFFER_SIZE.
   */
  process(request: Uint8Array, bufferSize: number): Promise<MmResult>;
  /** Optional hot-path variant: the result itself when it is ready at once, else a promise. */
  processNow?(request: Uint8Array, bufferSize: number): MmResult | Promise<MmResult>;
  /** Device hard reset (spec §1.7): volatile variables, phases and policies dropped, auth re-initialised. */
  reset(): Promise<void>;
}
