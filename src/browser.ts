/**
 * Entry of the browser build (dist/browser/uefi-vars.js, scripts/build-browser.mjs):
 * the pure library plus what the inspector page shows. Nothing reachable from
 * here may import a Node built-in — the build fails if something does.
 */
export * from './index.js';
export * from './inspect/index.js';
export { describeFunction, describeVariable } from './replay/replay.js';
export { readMmHeader, functionName, MM_HEADER_SIZE, VAR_HEADER_SIZE, mmTargetOf, replyStatusOf } from './wire/mm.js';
export { nameKey, encodeName } from './wire/ucs2.js';
export { toHex, fromHex } from './wire/hex.js';
export { formatAttributes } from './wire/attributes.js';
export { formatTime } from './wire/time.js';
export { storageUsed, storageInfo, variableCost } from './store/quota.js';
