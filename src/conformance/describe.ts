/** One line naming an MM request, for crash reports ("SetVariable Foo (a7a1f0d2-…) attr 0x27, DataSize 24"). */
import { guidAt, Guids } from '../wire/guid.js';
import { MM_HEADER_SIZE, Access, functionName, VarFunction } from '../wire/mm.js';
import { displayName } from '../wire/ucs2.js';

const HEADER_NAMES: Record<string, string> = {
  [Guids.smmVariable]: 'variable', [Guids.varCheckPolicy]: 'policy', [Guids.endOfDxe]: 'EndOfDxe event',
  [Guids.readyToBoot]: 'ReadyToBoot event', [Guids.exitBootServices]: 'ExitBootServices event',
};

export function describeRequest(r: Uint8Array): string {
  if (r.length < MM_HEADER_SIZE) return `${r.length}-byte buffer`;
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const guid = guidAt(r, 0);
  const ml = v.getBigUint64(16, true);
  const kind = HEADER_NAMES[guid] ?? `header GUID ${guid}`;
  if (guid !== Guids.smmVariable || r.length < MM_HEADER_SIZE + 16) return `${kind}, MessageLength ${ml}`;
  const fn = Number(v.getBigUint64(MM_HEADER_SIZE, true));
  let text = `${functionName(fn)} (MessageLength ${ml})`;
  if ((fn === VarFunction.GET_VARIABLE || fn === VarFunction.SET_VARIABLE) && r.length >= MM_HEADER_SIZE + Access.name) {
    const nameSize = Number(v.getBigUint64(MM_HEADER_SIZE + Access.nameSize, true));
    const dataSize = v.getBigUint64(MM_HEADER_SIZE + Access.dataSize, true);
    const attr = v.getUint32(MM_HEADER_SIZE + Access.attributes, true);
    const at = MM_HEADER_SIZE + Access.name;
    const name = nameSize <= r.length - at ? displayName(r.subarray(at, at + nameSize)) : '?';
    text += ` ${name} (${guidAt(r, MM_HEADER_SIZE + Access.guid)}) attributes 0x${attr.toString(16)}, DataSize ${dataSize}`;
  }
  return text;
}
