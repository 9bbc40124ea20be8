import { spawn } from 'node:child_process';

/**
 * sd_notify(3) for a Type=notify unit. Node has no AF_UNIX datagram sockets,
 * and the npm packages that send one need native code, so the message goes
 * through systemd-notify(1). It runs as another process, so the unit needs
 * NotifyAccess=all; `--pid` names us as the main process, and systemd-notify
 * waits (BARRIER=1) until the manager has read the message, so the manager
 * still finds the sender's cgroup when it does. Does nothing without
 * $NOTIFY_SOCKET. Resolves to undefined on success, else why it failed (the
 * caller logs it: a missing systemd-notify must not stop a running daemon).
 * `unref`: do not keep the process alive for it (STOPPING=1 on the way out).
 */
export function sdNotify(state: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; unref?: boolean } = {}): Promise<string | undefined> {
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!env['NOTIFY_SOCKET']) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: string | undefined): void => { if (!done) { done = true; clearTimeout(timer); resolve(why); } };
    const child = spawn('systemd-notify', [`--pid=${process.pid}`, state], { stdio: ['ignore', 'ignore', opts.unref ? 'ignore' : 'pipe'], env });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 500) stderr += c.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); finish(`systemd-notify ${state}: no answer in ${timeoutMs} ms`); }, timeoutMs);
    if (opts.unref) { child.unref(); timer.unref(); }
    child.once('error', (e: NodeJS.ErrnoException) => finish(`systemd-notify ${state}: ${e.code === 'ENOENT' ? 'not installed' : e.message}`));
    child.once('exit', (code, signal) => finish(code === 0 ? undefined : `systemd-notify ${state}: ${signal ?? `exit ${code}`} ${stderr.trim()}`.trim()));
  });
}
