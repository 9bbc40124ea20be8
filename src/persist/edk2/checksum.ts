/**
 * The two integrity checks of an NV flash image: the FV header's 16-bit sum
 * (PI spec: the UINT16 words of the header, Checksum included, add up to 0)
 * and the CRC-32 of the FTW working block header (gBS->CalculateCrc32: the
 * IEEE 802.3 polynomial, reflected, initial and final value 0xFFFFFFFF).
 */

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Sum of the little-endian UINT16 words of bytes[off, off+len) modulo 2^16. `len` must be even. */
export function sum16(bytes: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s = (s + (bytes[off + i]! | (bytes[off + i + 1]! << 8))) & 0xffff;
  return s;
}
