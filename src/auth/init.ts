import { Guids, guidBytes } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { concatBytes } from '../wire/hex.js';
import { makeVariable } from '../store/variable.js';
import type { VariableStore } from '../store/store.js';
import { Names, type SecureBootState } from './secure-boot.js';

const BS_RT = Attr.BS | Attr.RT;
const NV_BS = Attr.NV | Attr.BS;

/** SignatureSupport as QEMU publishes it: 5 GUIDs, no SHA1 (spec §4.5 [DIFF] kept). */
const SIGNATURE_SUPPORT = concatBytes([
  Guids.certSha256, Guids.certSha384, Guids.certSha512, Guids.certRsa2048, Guids.certX509,
].map(guidBytes));

export interface AuthInitOptions {
  forceSecureBoot: boolean;
}

/**
 * The auth initialisation QEMU runs at every device reset and after every
 * successful PK write (spec §4.5, "AuthVariableLibInitialize" equivalent).
 * Each variable is (re)written with the internal setter, so it moves to the end
 * of the store in this order (spec §3.6). Returns the new internal state.
 */
export function initializeAuthVariables(store: VariableStore, opts: AuthInitOptions): SecureBootState {
  const userMode = store.get(Guids.globalVariable, Names.PK) !== undefined;
  const put = (guid: string, name: Uint8Array, attributes: number, data: Uint8Array): void =>
    store.put(makeVariable({ guid, name, attributes, data }));

  put(Guids.globalVariable, Names.SetupMode, BS_RT, Uint8Array.of(userMode ? 0 : 1));
  put(Guids.globalVariable, Names.SignatureSupport, BS_RT, SIGNATURE_SUPPORT);

  // SecureBootEnable: kept as stored in user mode, ignored (not rewritten) in setup
  // mode; created with 1 when absent in user mode; forced to 1 by force-secure-boot.
  const sbe = store.get(Guids.secureBootEnableDisable, Names.SecureBootEnable);
  let enable = sbe !== undefined && userMode ? (sbe.data[0] ?? 0) : 0;
  if (sbe === undefined && userMode) {
    put(Guids.secureBootEnableDisable, Names.SecureBootEnable, NV_BS, Uint8Array.of(1));
    enable = 1;
  }
  if (opts.forceSecureBoot && enable !== 1) {
    put(Guids.secureBootEnableDisable, Names.SecureBootEnable, NV_BS, Uint8Array.of(1));
    enable = 1;
  }
  const secureBoot = enable === 1 && userMode;
  put(Guids.globalVariable, Names.SecureBoot, BS_RT, Uint8Array.of(secureBoot ? 1 : 0));
  put(Guids.customModeEnable, Names.CustomMode, NV_BS, Uint8Array.of(0));
  // QEMU keeps VendorKeysNv in the global namespace with NV|BS|AT and value 0 ([DIFF] kept).
  put(Guids.globalVariable, Names.VendorKeysNv, NV_BS | Attr.AT, Uint8Array.of(0));
  put(Guids.globalVariable, Names.VendorKeys, BS_RT, Uint8Array.of(0));
  return { setupMode: !userMode, secureBoot, auditMode: false, deployedMode: false };
}
