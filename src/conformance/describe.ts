/** One line naming an MM request, for crash reports ("SetVariable Foo (a7a1f0d2-…) attr 0x27, DataSize 24"). */
import { guidAt, Guids } from '../wire/guid.js';
import {
  Access, MM_HEADER_SIZE, VAR_HEADER_SIZE, VarFunction, accessFieldsOf, functionName, messageLengthField, peekRequest,
} from '../wire/mm.js';
import { displayName } from '../wire/ucs2.js';

const HEADER_NAMES: Record<string, string> = {
  [Guids.smmVariable]: 'variable', [Guids.varCheckPolicy]: 'policy', [Guids.endOfDxe]: 'EndOfDxe event',
  [Guids.readyToBoot]: 'ReadyToBoot event', [Guids.exitBootServices]: 'ExitBootServices event',
};

/** Read from the buffer as it is (a crashing request need not be well formed): each field only if its bytes are there. */
export function describeRequest(r: Uint8Array): string {
  const p = peekRequest(r);
  if (p.target === 'short') return `${r.length}-byte buffer`;
  const guid = guidAt(r, 0);
  const ml = messageLengthField(r);
  const kind = HEADER_NAMES[guid] ?? `header GUID ${guid}`;
  if (p.function === undefined || r.length < MM_HEADER_SIZE + VAR_HEADER_SIZE) return `${kind}, MessageLength ${ml}`;
  const fn = p.function;
  let text = `${functionName(fn)} (MessageLength ${ml})`;
  const msg = r.subarray(MM_HEADER_SIZE);
  const a = fn === VarFunction.GET_VARIABLE || fn === VarFunction.SET_VARIABLE ? accessFieldsOf(msg) : undefined;
  if (a) {
    const name = a.nameSize <= msg.length - Access.name ? displayName(msg.subarray(Access.name, Access.name + a.nameSize)) : '?';
    text += ` ${name} (${guidAt(msg, Access.guid)}) attributes 0x${a.attributes.toString(16)}, DataSize ${BigInt(a.dataSize)}`;
  }
  return text;
}
