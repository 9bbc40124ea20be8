import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/**
 * JSON lines to stderr (stdout stays free for whoever runs us). Synchronous
 * writes: after a crash the last lines, which say why, must have reached the
 * journal. Log records carry names, GUIDs, sizes and reasons, never variable
 * data: a variable may hold a secret (a key, a password hash).
 */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const dest = destination ?? pino.destination({ dest: 2, sync: true });
  return pino({
    name: 'uefi-vars',
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, dest);
}
