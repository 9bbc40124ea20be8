import { createConnection, type Server } from 'node:net';
import { lstat, unlink, chmod } from 'node:fs/promises';

/** Something in the way of listening; the message names the path and what to do. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/**
 * Listen on a Unix socket that only our user can connect to. The socket file
 * is created by bind() with mode 0777 & ~umask, so the umask is narrowed
 * around the synchronous bind inside listen(): there is no moment at which
 * another user could connect. A leftover socket file is removed only if
 * nothing answers on it; anything else at the path is left alone.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  await clearStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new ListenError(`${path}: cannot listen (${(e as NodeJS.ErrnoException).code ?? e.message})`));
    server.once('error', onError);
    const old = process.umask(0o177);
    try {
      server.listen(path, () => { server.off('error', onError); resolve(); });
    } finally {
      process.umask(old);
    }
  });
  // Belt and braces: a filesystem that ignores the umask for sockets still ends at 0600.
  await chmod(path, 0o600);
}

async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ListenError(`${path}: cannot inspect (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isSocket()) throw new ListenError(`${path}: exists and is not a socket; not removing it`);
  if (await somethingListens(path)) throw new ListenError(`${path}: another process is listening on it`);
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw new ListenError(`${path}: cannot remove stale socket (${e.code ?? e.message})`);
  });
}

function somethingListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (v: boolean): void => { s.destroy(); resolve(v); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(true)); // a listener too busy to accept is still a listener
  });
}

/** Listening sockets handed over by systemd socket activation (sd_listen_fds(3)). */
export interface ActivatedSockets {
  data: number | undefined;
  api: number | undefined;
}

const SD_LISTEN_FDS_START = 3;

/**
 * Read LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES. The fds are ours only if
 * LISTEN_PID is our pid (the variables may have been inherited from a parent
 * that was activated). A socket named "api" (FileDescriptorName=api) serves the
 * management API; the first other one serves the data protocol; without names
 * fd 3 is data and fd 4 the API. The variables are removed so that children
 * we might start do not think the fds are theirs.
 */
export function activatedSockets(env: NodeJS.ProcessEnv = process.env, pid = process.pid): ActivatedSockets {
  const none = { data: undefined, api: undefined };
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) return none;
  const forUs = Number(env.LISTEN_PID) === pid;
  const count = /^\d+$/.test(env.LISTEN_FDS) ? Number(env.LISTEN_FDS) : 0;
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  delete env.LISTEN_PID; delete env.LISTEN_FDS; delete env.LISTEN_FDNAMES;
  if (!forUs || count < 1) return none;
  const fds = Array.from({ length: count }, (_, i) => SD_LISTEN_FDS_START + i);
  const named = names.length === count;
  const apiIndex = named ? names.indexOf('api') : count >= 2 ? 1 : -1;
  const dataIndex = fds.findIndex((_, i) => i !== apiIndex);
  return { data: dataIndex >= 0 ? fds[dataIndex] : undefined, api: apiIndex >= 0 ? fds[apiIndex] : undefined };
}

/** Listen on an inherited, already-bound listening fd. */
export function listenFd(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => { server.off('error', reject); resolve(); });
  });
}
