/** Spec §8 items 1–15: the register interface (§1), observed through register access. */
import { Cmd, Reg, MAX_BUFFER_SIZE } from '../../device/registers.js';
import { Guids, guidBytes } from '../../wire/guid.js';
import { MM_HEADER_SIZE, VarFunction, writeMmHeader, replyStatusOf } from '../../wire/mm.js';
import { DeviceStatus } from '../../wire/status.js';
import {
  eventRequest, functionOnlyRequest, getNextRequest, getPayloadSizeRequest, getVariableRequest, lockVariableRequest,
  queryVariableInfoRequest, setVariableRequest,
} from '../../client/requests.js';
import { policyRequest } from '../../client/policy-requests.js';
import { CaseSkipped, type ConformanceCase, type CaseContext } from '../case.js';
import { DATA4, NV_BS_RT, VENDOR, messageLength, withMessageLength } from './helpers.js';

/** CRC-32C written out bit by bit (Castagnoli, reflected 0x82F63B78), independent of the implementation's table. */
export function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

const rd = async (ctx: CaseContext, off: number, w: 1 | 2 | 4 | 8): Promise<number> => Number(await ctx.regs.read(off, w));
const cmd = async (ctx: CaseContext, c: number): Promise<number> => {
  await ctx.regs.write(Reg.CMD_STS, 2, c);
  return rd(ctx, Reg.CMD_STS, 2);
};

/** Bytes 0..n-1 with a recognisable pattern. */
const pattern = (n: number, seed = 0x31): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i * 7) & 0xff);

/** Write `bytes` (a multiple of 4) to the PIO buffer from offset 0 with 32-bit accesses. */
async function pioWrite(ctx: CaseContext, bytes: Uint8Array): Promise<void> {
  await cmd(ctx, Cmd.PIO_ZERO_OFFSET);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o < bytes.length; o += 4) await ctx.regs.write(Reg.PIO_BUFFER_TRANSFER, 4, v.getUint32(o, true));
}

export const deviceCases: ConformanceCase[] = [
  {
    id: 'magic', item: '§8.1', title: 'MAGIC reads 0x0EF1 for 16- and 32-bit reads', needs: ['registers'],
    async run(ctx) {
      ctx.expect('16-bit read at 0x00', await rd(ctx, Reg.MAGIC, 2), 0x0ef1);
      ctx.expect('32-bit read at 0x00', await rd(ctx, Reg.MAGIC, 4), 0x00000ef1);
    },
  },
  {
    id: 'flags-default', item: '§8.2', title: 'FLAGS reads 0 by default', needs: ['registers'],
    async run(ctx) { ctx.expect('FLAGS', await rd(ctx, Reg.FLAGS, 4), 0); },
  },
  {
    id: 'flags-use-pio', item: '§8.2', title: 'FLAGS reads 1 with use-pio=on', needs: ['registers'], config: { usePio: true },
    async run(ctx) { ctx.expect('FLAGS', await rd(ctx, Reg.FLAGS, 4), 1); },
  },
  {
    id: 'buffer-size-clamp', item: '§8.3', title: 'BUFFER_SIZE 0x100000 reads back as 0x10000', needs: ['registers'],
    async run(ctx) {
      await ctx.regs.write(Reg.BUFFER_SIZE, 4, 0x100000);
      ctx.expect('BUFFER_SIZE', await rd(ctx, Reg.BUFFER_SIZE, 4), 0x10000);
    },
  },
  {
    id: 'dma-without-buffer', item: '§8.4', title: 'DMA_MM before any BUFFER_SIZE write: CMD_STS 0x12, memory untouched', needs: ['registers'],
    async run(ctx) {
      ctx.expect('CMD RESET status', await cmd(ctx, Cmd.RESET), DeviceStatus.SUCCESS);
      const req = getPayloadSizeRequest();
      const a = ctx.regs.bufferAddress;
      await ctx.regs.write(Reg.DMA_BUFFER_ADDR_LO, 4, Number(a & 0xffffffffn));
      await ctx.regs.write(Reg.DMA_BUFFER_ADDR_HI, 4, Number(a >> 32n));
      await ctx.regs.memWrite(a, req);
      ctx.expect('CMD_STS after DMA_MM', await cmd(ctx, Cmd.DMA_MM), DeviceStatus.ERR_BAD_BUFFER_SIZE);
      ctx.expect('guest buffer', await ctx.regs.memRead(a, req.length), req);
    },
  },
  {
    id: 'unknown-command', item: '§8.5', title: 'Unknown command 0x55: CMD_STS 0x11', needs: ['registers'],
    async run(ctx) { ctx.expect('CMD_STS', await cmd(ctx, 0x55), DeviceStatus.ERR_NOT_SUPPORTED); },
  },
  {
    id: 'message-length-limit', item: '§8.6', title: 'MessageLength 65513: 0x12 and memory unchanged; 65512 accepted', needs: ['registers'],
    async run(ctx) {
      const a = ctx.regs.bufferAddress;
      const big = new Uint8Array(MAX_BUFFER_SIZE);
      big.set(pattern(MAX_BUFFER_SIZE));
      writeMmHeader(big, guidBytes(Guids.smmVariable), 65513);
      await ctx.regs.memWrite(a, big);
      ctx.expect('CMD_STS for 24 + 65513', await cmd(ctx, Cmd.DMA_MM), DeviceStatus.ERR_BAD_BUFFER_SIZE);
      ctx.expect('64 KiB buffer after the refused request', await ctx.regs.memRead(a, MAX_BUFFER_SIZE), big);
      const ok = withMessageLength(queryVariableInfoRequest(7), 65512);
      const x = await ctx.client.call(ok);
      ctx.expect('CMD_STS for 24 + 65512', x.deviceStatus, DeviceStatus.SUCCESS);
      ctx.expect('ReturnStatus of the 65512-byte QueryVariableInfo', (x.reply ? replyStatusOf(x.reply, 'variable') : undefined) ?? -1n, 0n);
    },
  },
  {
    id: 'unknown-header-guid', item: '§8.7', title: 'Unknown MM header GUID: CMD_STS 0x11, buffer written back unchanged',
    async run(ctx) {
      for (const g of ['0b5b4c2e-1d3f-4a5b-8c7d-9e0f1a2b3c4d', Guids.mmCommunicateV3]) {
        const req = new Uint8Array(MM_HEADER_SIZE + 40);
        req.set(pattern(req.length), 0);
        writeMmHeader(req, guidBytes(g), 40);
        const x = await ctx.client.call(req);
        ctx.expect(`CMD_STS for header ${g}`, x.deviceStatus, DeviceStatus.ERR_NOT_SUPPORTED);
        if (x.reply) ctx.expect(`buffer after header ${g}`, x.reply, req);
      }
    },
  },
  {
    id: 'variable-message-too-short', item: '§8.8', title: 'Variable-protocol message with MessageLength 8: CMD_STS 0x12',
    async run(ctx) {
      const x = await ctx.client.call(withMessageLength(functionOnlyRequest(VarFunction.GET_PAYLOAD_SIZE), 8));
      ctx.expect('CMD_STS', x.deviceStatus, DeviceStatus.ERR_BAD_BUFFER_SIZE);
    },
  },
  {
    id: 'policy-message-too-short', item: '§8.9', title: 'Policy message with MessageLength 19: CMD_STS 0x12',
    async run(ctx) {
      const x = await ctx.client.call(withMessageLength(policyRequest(2, new Uint8Array(1)), 19));
      ctx.expect('CMD_STS', x.deviceStatus, DeviceStatus.ERR_BAD_BUFFER_SIZE);
    },
  },
  {
    id: 'message-length-unchanged', item: '§8.10', title: 'The reply keeps the request MessageLength, for every function',
    async run(ctx) {
      const reqs: Array<[string, Uint8Array]> = [
        ['GetVariable (missing)', getVariableRequest({ name: 'Nope', guid: VENDOR, dataSize: 64 })],
        ['GetVariable (too small)', getVariableRequest({ name: 'SetupMode', guid: Guids.globalVariable, dataSize: 0 })],
        ['GetNextVariableName', getNextRequest({ name: '', guid: VENDOR, bufferSize: 256 })],
        ['SetVariable', setVariableRequest({ name: 'MlCheck', guid: VENDOR, attributes: NV_BS_RT, data: DATA4 })],
        ['QueryVariableInfo', queryVariableInfoRequest(7)],
        ['GET_PAYLOAD_SIZE', getPayloadSizeRequest()],
        ['LOCK_VARIABLE', lockVariableRequest({ name: 'MlLock', guid: VENDOR })],
        ['READY_TO_BOOT', functionOnlyRequest(5)],
        ['function 7', functionOnlyRequest(7)],
        ['function 99', functionOnlyRequest(99)],
        ['policy IS_ENABLED', policyRequest(2, new Uint8Array(1))],
        ['EndOfDxe event', eventRequest('endOfDxe')],
        ['GET_PAYLOAD_SIZE with a 200-byte message', withMessageLength(getPayloadSizeRequest(), 200)],
      ];
      for (const [what, req] of reqs) {
        const x = await ctx.client.call(req);
        ctx.expect(`${what}: CMD_STS`, x.deviceStatus, DeviceStatus.SUCCESS);
        if (!x.reply) throw new CaseSkipped('nothing written back');
        ctx.expect(`${what}: reply MessageLength`, messageLength(x.reply), messageLength(req));
        ctx.expect(`${what}: reply header GUID`, x.reply.subarray(0, 16), req.subarray(0, 16));
      }
    },
  },
  {
    id: 'pio-crc32c', item: '§8.11', title: 'PIO: 12 32-bit writes, CRC32C of the 48 bytes; CRC-32C("123456789") = 0xE3069283', needs: ['registers'],
    async run(ctx) {
      ctx.expect('suite self-check: CRC-32C("123456789")', crc32cBitwise(new TextEncoder().encode('123456789')), 0xe3069283);
      const bytes = pattern(48);
      await pioWrite(ctx, bytes);
      ctx.expect('PIO_BUFFER_CRC32C after 48 bytes', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(bytes));
    },
  },
  {
    id: 'pio-bounds', item: '§8.12', title: 'PIO write past BUFFER_SIZE is dropped without advancing; read past it gives 0', needs: ['registers'],
    async run(ctx) {
      await ctx.regs.write(Reg.BUFFER_SIZE, 4, 8);
      const bytes = pattern(8);
      await pioWrite(ctx, bytes);
      await ctx.regs.write(Reg.PIO_BUFFER_TRANSFER, 4, 0x11223344); // offset 8 + 4 > 8: dropped
      ctx.expect('CRC32C (offset stays at 8)', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(bytes));
      await cmd(ctx, Cmd.PIO_ZERO_OFFSET);
      const back = new Uint8Array(8);
      const v = new DataView(back.buffer);
      v.setUint32(0, await rd(ctx, Reg.PIO_BUFFER_TRANSFER, 4), true);
      v.setUint32(4, await rd(ctx, Reg.PIO_BUFFER_TRANSFER, 4), true);
      ctx.expect('bytes read back', back, bytes);
      ctx.expect('read past the buffer', await rd(ctx, Reg.PIO_BUFFER_TRANSFER, 4), 0);
      ctx.expect('CRC32C after the refused read (offset stays at 8)', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(bytes));
    },
  },
  {
    id: 'soft-reset', item: '§8.13', title: 'CMD RESET zeroes BUFFER_SIZE and the DMA address, CMD_STS 0, keeps the PIO offset', needs: ['registers'],
    async run(ctx) {
      await ctx.regs.write(Reg.DMA_BUFFER_ADDR_LO, 4, 0x12345000);
      await ctx.regs.write(Reg.DMA_BUFFER_ADDR_HI, 4, 0x1);
      await pioWrite(ctx, pattern(12));
      ctx.expect('unknown command first (CMD_STS 0x11)', await cmd(ctx, 0x77), DeviceStatus.ERR_NOT_SUPPORTED);
      ctx.expect('CMD_STS after RESET', await cmd(ctx, Cmd.RESET), DeviceStatus.SUCCESS);
      ctx.expect('BUFFER_SIZE', await rd(ctx, Reg.BUFFER_SIZE, 4), 0);
      ctx.expect('DMA_BUFFER_ADDR_LO', await rd(ctx, Reg.DMA_BUFFER_ADDR_LO, 4), 0);
      ctx.expect('DMA_BUFFER_ADDR_HI', await rd(ctx, Reg.DMA_BUFFER_ADDR_HI, 4), 0);
      // A new buffer is zero-filled and the offset survived: the CRC covers 12 zero bytes.
      await ctx.regs.write(Reg.BUFFER_SIZE, 4, 64);
      ctx.expect('CRC32C over [0, kept offset 12)', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(new Uint8Array(12)));
    },
  },
  {
    id: 'pio-access-widths', item: '§8.14', title: 'PIO_BUFFER_TRANSFER: 16-bit moves 2 bytes, 8-bit moves 2, 64-bit moves 4', needs: ['registers'],
    async run(ctx) {
      await cmd(ctx, Cmd.PIO_ZERO_OFFSET);
      await ctx.regs.write(Reg.PIO_BUFFER_TRANSFER, 2, 0xb2a1);
      ctx.expect('CRC32C after one 16-bit write', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(new Uint8Array([0xa1, 0xb2])));
      await ctx.regs.write(Reg.PIO_BUFFER_TRANSFER, 1, 0xc3);
      const four = new Uint8Array([0xa1, 0xb2, 0xc3, 0x00]);
      ctx.expect('CRC32C after an 8-bit write (moves 2 bytes)', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(four));
      await ctx.regs.write(Reg.PIO_BUFFER_TRANSFER, 8, 0x99887766_55443322n);
      const eight = new Uint8Array([0xa1, 0xb2, 0xc3, 0x00, 0x22, 0x33, 0x44, 0x55]);
      ctx.expect('CRC32C after a 64-bit write (moves 4 bytes)', await rd(ctx, Reg.PIO_BUFFER_CRC32C, 4), crc32cBitwise(eight));
    },
  },
  {
    id: 'fw-cfg-hardware-info', item: '§8.15', title: 'fw_cfg etc/hardware-info holds {type 2, size 8, 0xFEF10000}', needs: ['fwcfg'],
    async run(ctx) {
      const read = ctx.regs.readFwCfgFile;
      if (!read) throw new CaseSkipped('no fw_cfg on this target');
      const info = await read.call(ctx.regs, 'etc/hardware-info');
      if (!info) { ctx.expect('etc/hardware-info present', false, true); return; }
      const v = new DataView(info.buffer, info.byteOffset, info.byteLength);
      const found: bigint[] = [];
      for (let o = 0; o + 16 <= info.length;) {
        const type = v.getBigUint64(o, true);
        const size = Number(v.getBigUint64(o + 8, true));
        if (type === 2n) { ctx.expect('uefi-vars record size', size, 8); found.push(v.getBigUint64(o + 16, true)); }
        o += 16 + size;
      }
      ctx.expect('uefi-vars records (MMIO base)', found, [0xfef10000n]);
    },
  },
];
