import { writeGuid } from '../wire/guid.js';
import { checkName, qemuAcceptsName } from '../wire/ucs2.js';
import { Access, GetNext, Qvi, PayloadSize, VAR_HEADER_SIZE, MM_HEADER_SIZE, type MessageView } from '../wire/mm.js';
import { isAccessible } from '../store/access.js';
import { storageInfo } from '../store/quota.js';
import { keyAt } from '../store/variable.js';
import { type Outcome, ok, fail, HEADER_ONLY } from './outcome.js';
import { type ServiceState, fitsBuffer } from './context.js';

/** GET_VARIABLE (1), spec §2.5.1, in QEMU's check order. */
export function getVariable(s: ServiceState, m: MessageView): Outcome {
  const a = m.accessFields();
  if (!a) return fail('message-too-short');
  const { dataSize, nameSize } = a;
  if (nameSize > s.options.size || dataSize > s.options.size) return fail('size-exceeds-storage');
  if (Access.name + nameSize > m.length) return fail('field-past-message');
  const problem = checkName(m.bytes, Access.name, nameSize, true);
  if (problem === 'no-nul') return fail('name-no-nul', HEADER_ONLY, qemuAcceptsName(m.bytes, Access.name, nameSize) ? 'name-without-nul' : undefined);
  if (problem) return fail('name-invalid');
  const v = s.store.getAt(m.bytes, Access.guid, Access.name, nameSize);
  if (!v) return fail('not-found');
  // QEMU answers ACCESS_DENIED where edk2 says NOT_FOUND ([DIFF] §2.5.1 kept).
  if (!isAccessible(v.attributes, s.flags.exitBootServices)) return fail('access-denied-phase');
  const L = Access.name + nameSize + dataSize;
  if (!fitsBuffer(s, L)) return fail('reply-exceeds-buffer');
  m.setU32(Access.attributes, v.attributes);
  m.setU64(Access.dataSize, v.data.length);
  if (dataSize < v.data.length) return fail('buffer-too-small', L);
  m.put(Access.name + nameSize, v.data);
  return ok(L);
}

/** GET_NEXT_VARIABLE_NAME (2), spec §2.5.2 and the observed §10.3/§10.4 behaviour. */
export function getNextVariableName(s: ServiceState, m: MessageView): Outcome {
  const f = m.nameFields();
  if (!f) return fail('message-too-short');
  const { nameSize } = f;
  if (nameSize > s.options.size) return fail('size-exceeds-storage');
  if (GetNext.name + nameSize > m.length) return fail('field-past-message');
  // The current name must be valid within the incoming NameSize (spec §10.4).
  const problem = checkName(m.bytes, GetNext.name, nameSize, true);
  if (problem === 'no-nul') return fail('name-no-nul', HEADER_ONLY, qemuAcceptsName(m.bytes, GetNext.name, nameSize) ? 'name-without-nul' : undefined);
  if (problem) return fail('name-invalid');
  const runtime = s.flags.exitBootServices;
  let key: string | undefined;
  if (m.bytes[GetNext.name] === 0 && m.bytes[GetNext.name + 1] === 0) {
    key = undefined; // empty name: start of the enumeration
  } else {
    // The current variable is looked up without the phase check (spec §10.3, QEMU).
    key = keyAt(m.bytes, GetNext.guid, m.bytes, GetNext.name, nameSize);
    if (!s.store.getByKey(key)) return fail('current-not-found');
  }
  const next = s.store.nextAfter(key, (v) => isAccessible(v.attributes, runtime));
  if (!next) return fail('end-of-list');
  const L = GetNext.name + next.name.length;
  if (!fitsBuffer(s, L)) return fail('reply-exceeds-buffer');
  writeGuid(next.guid, m.bytes, GetNext.guid); // the GUID field is inside the message (length >= 40)
  m.setU64(GetNext.nameSize, next.name.length);
  m.put(GetNext.name, next.name);
  return ok(L);
}

/** QUERY_VARIABLE_INFO (4), spec §2.5.4: one pool, requested attributes ignored ([DIFF] kept). */
export function queryVariableInfo(s: ServiceState, m: MessageView): Outcome {
  if (!fitsBuffer(s, Qvi.end)) return fail('reply-exceeds-buffer');
  const info = storageInfo(s.store.usedStorage, s.options.size);
  m.setU64(Qvi.maxStorage, info.maxStorage);
  m.setU64(Qvi.remaining, info.remaining);
  m.setU64(Qvi.maxVariableSize, info.maxVariableSize);
  m.setU32(Qvi.attributes, 0);
  return ok(Qvi.end);
}

/** GET_PAYLOAD_SIZE (11), spec §2.5.6: buf_size − 24 (MM header) − 16 (function header). */
export function getPayloadSize(s: ServiceState, m: MessageView): Outcome {
  m.setU64(PayloadSize.size, Math.max(0, s.bufferSize - MM_HEADER_SIZE - VAR_HEADER_SIZE));
  return ok(PayloadSize.end);
}
