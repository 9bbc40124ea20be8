import { Attr } from '../wire/attributes.js';

/**
 * Boot-phase flags. QEMU keeps them independent (spec §3.5): each is set by its
 * event or function and cleared only by a device hard reset.
 */
export interface PhaseFlags {
  endOfDxe: boolean;
  readyToBoot: boolean;
  exitBootServices: boolean;
}

export type Phase = 'dxe' | 'end-of-dxe' | 'ready-to-boot' | 'runtime';

export function phaseOf(f: PhaseFlags): Phase {
  if (f.exitBootServices) return 'runtime';
  if (f.readyToBoot) return 'ready-to-boot';
  if (f.endOfDxe) return 'end-of-dxe';
  return 'dxe';
}

/**
 * spec §3.4: before ExitBootServices a variable is reachable iff it has BS, after
 * iff it has RT. Used by Get (ACCESS_DENIED), GetNext (skip) and Set (old and new).
 */
export function isAccessible(attributes: number, atRuntime: boolean): boolean {
  return (attributes & (atRuntime ? Attr.RT : Attr.BS)) !== 0;
}
