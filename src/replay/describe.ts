import { Access, GetNext, functionName, peekRequest, accessFieldsOf, nameFieldsOf, payloadKindOf, MM_HEADER_SIZE, VAR_HEADER_SIZE } from '../wire/mm.js';
import { guidAt } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';

/** What a request asked, for a replay difference line ("SET_VARIABLE", "VarCheckPolicy", "event EndOfDxe"). */
export function describeFunction(req: Uint8Array): string {
  const p = peekRequest(req);
  switch (p.target) {
    case 'short': return 'short buffer';
    case 'variable': return p.function === undefined ? 'SmmVariable (short)' : functionName(p.function);
    case 'policy': return 'VarCheckPolicy';
    case 'endOfDxe': return 'event EndOfDxe';
    case 'readyToBoot': return 'event ReadyToBoot';
    case 'exitBootServices': return 'event ExitBootServices';
    case 'unknown': return `unknown MM GUID ${guidAt(req, 0)}`;
  }
}

/** The variable a request names ("Boot0001 8be4df61-…"), '-' when it names none or the bytes are not there. */
export function describeVariable(req: Uint8Array): string {
  const p = peekRequest(req);
  if (p.function === undefined || req.length < MM_HEADER_SIZE + VAR_HEADER_SIZE) return '-';
  const m = req.subarray(MM_HEADER_SIZE);
  const kind = payloadKindOf(p.function);
  const at = kind === 'access-variable' ? { fields: accessFieldsOf(m), name: Access.name, guid: Access.guid }
    : kind === 'variable-name' ? { fields: nameFieldsOf(m), name: GetNext.name, guid: GetNext.guid } : undefined;
  if (!at?.fields) return '-';
  const nameSize = Math.min(at.fields.nameSize, m.length - at.name);
  return `${nameKey(m, at.name, nameSize)} ${guidAt(m, at.guid)}`;
}
