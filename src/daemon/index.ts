/** The daemon's surface: server, the VMM-side client, protocol constants (test helpers live in test/helpers/). */
export { Daemon, type DaemonConfig, DEFAULT_MAX_CONNECTIONS } from './server/server.js';
export { DaemonClient, DaemonError, connectReplayTarget, type DaemonClientOptions } from './protocol/vmm-client.js';
export { RawReplayTarget, type RawTargetOptions } from './protocol/vmm-raw-client.js';
export { VmRegistry, VmError, SINGLE_VM_ID, type StoreLayout } from './server/registry.js';
export { createLogger, type LogLevel } from './server/logging.js';
export { DEFAULT_RATE_LIMIT, DEFAULT_MAX_IN_FLIGHT, type RateLimit } from './server/limits.js';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './server/connection.js';
export * as frames from './protocol/frames.js';
