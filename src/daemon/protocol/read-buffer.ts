import { Socket } from 'node:net';

/**
 * Reads on data connections land in one buffer that all of them share, not in
 * a fresh ArrayBuffer per read (what Node does for an accepted socket). Every
 * such buffer is an external backing store that the young-generation collector
 * has to sweep: at 50k requests/s they made the daemon's scavenges ~40% longer,
 * and each scavenge is a pause every connection waits through.
 *
 * Sharing is sound because one read callback runs at a time and consumes its
 * chunk before it returns. The rule for everything downstream: a chunk, and a
 * frame decoded from it, is valid only until the callback returns. FrameDecoder
 * copies what it holds over; the service copies the MM request it parses (its
 * one copy of guest bytes); MEM_DATA payloads and metrics labels of requests
 * that finish later are copied by whoever keeps them.
 */
const SHARED = new Uint8Array(64 * 1024);

/** Node's `onread` option (net.connect, and Socket for an adopted handle). */
export interface SharedRead { buffer: Uint8Array; callback: (bytes: number, buffer: Uint8Array) => boolean }

/**
 * The `onread` option that reads into the shared buffer and hands each chunk to
 * `onChunk`, for sockets this process creates (DaemonClient) as for the ones it
 * accepts; the rule above holds for both.
 */
export function sharedRead(onChunk: (chunk: Uint8Array) => void): SharedRead {
  return { buffer: SHARED, callback: (n, buf) => { onChunk(buf.subarray(0, n)); return true; } };
}

/** What Node's net module takes and does not declare: an existing handle. */
interface AdoptOptions { handle: object; readable: true; writable: true; onread: SharedRead }

interface WithHandle { _handle: { useUserBuffer?: unknown } | null }

/**
 * Deliver an accepted connection's bytes to `onChunk` from the shared buffer.
 * The server must be created with `pauseOnConnect`, so that nothing was read
 * yet. Node offers `onread` only on sockets a program creates itself, so the
 * accepted socket's handle moves into a new Socket created with it; the accepted
 * socket (which the server counts) is destroyed when the new one closes. Where
 * the handle is not what this expects (another Node), the accepted socket is
 * used as it is, with a buffer per read.
 */
export function adoptWithSharedReads(accepted: Socket, onChunk: (chunk: Uint8Array) => void): Socket {
  const internal = accepted as unknown as WithHandle;
  const handle = internal._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') {
    accepted.on('data', onChunk);
    accepted.resume();
    return accepted;
  }
  internal._handle = null;
  const options: AdoptOptions = { handle, readable: true, writable: true, onread: sharedRead(onChunk) };
  const own = new Socket(options as unknown as ConstructorParameters<typeof Socket>[0]);
  own.once('close', () => accepted.destroy());
  return own;
}
