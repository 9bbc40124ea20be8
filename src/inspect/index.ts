/** The store summary (print, management API, inspector page). Pure: runs in a browser. */
export { summarizeStore, type StoreSummary, type SecureBootFacts, type SummaryOptions, type LiveSecureBoot } from './summary.js';
export { decodeKeyDatabase, certificateFacts, certificatesOf, type KeyDatabase, type SignatureEntry, type CertificateFacts } from './esl.js';
export { dbxFacts, type DbxFacts } from './dbx.js';
export { readiness2023, MICROSOFT_2023, type Readiness, type ReadinessItem } from './readiness.js';
export { bootFacts, type BootFacts } from './boot.js';
export { decodeLoadOption, decodeUint16List, type LoadOption } from './load-option.js';
export { formatDevicePath } from './device-path.js';
export { decodeValue } from './decode-value.js';
export { summaryLines } from './render.js';
export { parseTraceOptions, optionsFileFor, TraceOptionsError, type TraceOptions } from './trace-options.js';
