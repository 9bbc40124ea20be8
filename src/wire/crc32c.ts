/**
 * CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final
 * xor 0xFFFFFFFF. The PIO_BUFFER_CRC32C register reports it and edk2 compares it
 * with its own CalculateCrc32c (spec §1.6); check value "123456789" → 0xE3069283.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** CRC-32C of `data`, as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
