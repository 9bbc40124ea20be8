import { registerFormat } from './formats.js';
import { decodeEdk2Fd, encodeEdk2Fd, isEdk2Fd, defaultEdk2Geometry, type Edk2Geometry } from './edk2-fd.js';
import { decodeAws, encodeAws, isAws } from './aws.js';

/**
 * A never-booted pflash vars image: all zeros (Debian's 64 MiB AAVMF_VARS.fd)
 * or all 0xFF (erased flash). edk2 formats it on first boot, so it is an empty
 * store with the layout the firmware will give it.
 */
function blankFlashGeometry(bytes: Uint8Array): Edk2Geometry | undefined {
  const kinds = (['aavmf', 'ovmf-4m', 'ovmf-2m'] as const).map((k) => defaultEdk2Geometry(k));
  const g = kinds.find((k) => k.fileSize === bytes.length);
  if (!g) return undefined;
  const fill = bytes[0];
  if (fill !== 0x00 && fill !== 0xff) return undefined;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== fill) return undefined;
  return g;
}

registerFormat({
  format: 'edk2',
  detect: (b) => isEdk2Fd(b) || blankFlashGeometry(b) !== undefined,
  decode: async (b) => {
    const blank = isEdk2Fd(b) ? undefined : blankFlashGeometry(b);
    if (blank) return { format: 'edk2', variables: [], layout: blank };
    const d = decodeEdk2Fd(b);
    return { format: 'edk2', variables: d.variables, layout: d.geometry };
  },
  // Without a layout (converting from another format) the OVMF 4 MiB layout is used.
  encode: async (v, layout) => encodeEdk2Fd(v, (layout as Edk2Geometry | undefined) ?? defaultEdk2Geometry('ovmf-4m')),
});

registerFormat({
  format: 'aws',
  detect: isAws,
  decode: async (b) => ({ format: 'aws', variables: decodeAws(b) }),
  encode: (v) => encodeAws(v),
});
