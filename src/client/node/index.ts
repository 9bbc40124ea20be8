/** `uefi-vars/client/node`: transports that need Node (daemon socket, QEMU qtest). */
export { DaemonTransport, socketTarget, type SocketMode } from './socket.js';
export { QtestTransport, qemuTarget, qtestAttachTarget, spawnQemu, deviceArgument, ResetUnsupported, type QemuTargetOptions } from './qemu.js';
export { QtestConnection, QtestError } from './qtest.js';
export { QmpConnection } from './qmp.js';
