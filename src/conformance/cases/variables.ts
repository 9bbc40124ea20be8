/** Spec §8 items 17–40: the variable protocol (§2.5) and the store rules (§3). */
import { Guids } from '../../wire/guid.js';
import { getVariableRequest, getNextRequest, setVariableRequest, replyStatus } from '../../client/requests.js';
import { CaseFailure, type ConformanceCase, type CaseContext } from '../case.js';
import { MM_HEADER_SIZE, VAR_HEADER_SIZE, ACCESS_VARIABLE_FIXED, Access, GetNext, nameFieldsOf } from '../../wire/mm.js';
import { AP, AT, AW, BS, DATA4, GLOBAL, NV, NV_BS_RT, RT, S, VENDOR, mustSet, nameBytes, nameText, withMessageLength } from './helpers.js';

const CUSTOM = Guids.customModeEnable;

async function names(ctx: CaseContext): Promise<string[]> {
  const r = await ctx.client.listVariables();
  ctx.expect('enumeration ends with', r.status, S.NOT_FOUND);
  return r.variables.map((v) => `${nameText(v.name)}@${v.guid.slice(0, 8)}`);
}

async function rawStatus(ctx: CaseContext, req: Uint8Array): Promise<bigint> {
  return replyStatus(await ctx.client.variableCall(req, 'request'));
}

/** SHA-256, SHA-384, SHA-512, RSA2048, X509 (spec §4.5 step 2), from the GUID table of §2.2. */
const SIGNATURE_SUPPORT = [Guids.certSha256, Guids.certSha384, Guids.certSha512, Guids.certRsa2048, Guids.certX509];

export const variableCases: ConformanceCase[] = [
  {
    id: 'payload-size', item: '§8.17', title: 'GET_PAYLOAD_SIZE with a 64 KiB buffer: 65496, SUCCESS',
    async run(ctx) {
      const r = await ctx.client.getPayloadSize();
      ctx.expect('status', r.status, S.SUCCESS);
      ctx.expect('VariablePayloadSize', r.size, 65496n);
    },
  },
  {
    id: 'fresh-query-info', item: '§8.18', title: 'Fresh QueryVariableInfo: 262144 / 261337 / 65536, attributes 0',
    async run(ctx) {
      const q = await ctx.client.queryVariableInfo(NV_BS_RT);
      ctx.expect('status', q.status, S.SUCCESS);
      ctx.expect('MaximumVariableStorageSize', q.maximumStorage, 262144n);
      ctx.expect('RemainingVariableStorageSize', q.remainingStorage, 261337n);
      ctx.expect('MaximumVariableSize', q.maximumVariableSize, 65536n);
      ctx.expect('Attributes', q.attributes, 0);
    },
  },
  {
    id: 'fresh-enumeration', item: '§8.19', title: 'Fresh enumeration: SetupMode, SignatureSupport, SecureBoot, CustomMode, VendorKeysNv, VendorKeys',
    async run(ctx) {
      const g = GLOBAL.slice(0, 8), c = CUSTOM.slice(0, 8);
      ctx.expect('variables in order', await names(ctx),
        [`SetupMode@${g}`, `SignatureSupport@${g}`, `SecureBoot@${g}`, `CustomMode@${c}`, `VendorKeysNv@${g}`, `VendorKeys@${g}`]);
    },
  },
  {
    id: 'fresh-values', item: '§8.20', title: 'Fresh values of the Secure Boot variables; SecureBootEnable absent',
    async run(ctx) {
      const want: Array<[string, string, number, number[]]> = [
        ['SetupMode', GLOBAL, BS | RT, [1]], ['SecureBoot', GLOBAL, BS | RT, [0]], ['CustomMode', CUSTOM, NV | BS, [0]],
        ['VendorKeys', GLOBAL, BS | RT, [0]], ['VendorKeysNv', GLOBAL, NV | BS | AT, [0]],
      ];
      for (const [name, guid, attr, data] of want) {
        const r = await ctx.client.getVariable(name, guid);
        ctx.expect(`${name} status`, r.status, S.SUCCESS);
        ctx.expect(`${name} data`, r.data, Uint8Array.from(data));
        ctx.expect(`${name} attributes`, r.attributes, attr);
      }
      const sig = await ctx.client.getVariable('SignatureSupport', GLOBAL);
      ctx.expect('SignatureSupport status', sig.status, S.SUCCESS);
      const guids: string[] = [];
      for (let o = 0; o + 16 <= sig.data.length; o += 16) {
        const b = sig.data.subarray(o, o + 16);
        const h = [...b].map((x) => x.toString(16).padStart(2, '0'));
        guids.push(`${h.slice(0, 4).reverse().join('')}-${h.slice(4, 6).reverse().join('')}-${h.slice(6, 8).reverse().join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`);
      }
      ctx.expect('SignatureSupport GUIDs', guids, SIGNATURE_SUPPORT);
      ctx.expect('SecureBootEnable', (await ctx.client.getVariable('SecureBootEnable', Guids.secureBootEnableDisable)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'get-buffer-too-small', item: '§8.21', title: 'GetVariable with DataSize 2 for 4 bytes: BUFFER_TOO_SMALL, DataSize 4, Attributes 7',
    async run(ctx) {
      ctx.expect('SetVariable NV|BS|RT 4 bytes', await ctx.client.setVariable('Conf21', VENDOR, NV_BS_RT, DATA4), S.SUCCESS);
      const r = await ctx.client.getVariableWith('Conf21', VENDOR, 2);
      ctx.expect('status', r.status, S.BUFFER_TOO_SMALL);
      ctx.expect('DataSize', r.dataSize, 4);
      ctx.expect('Attributes', r.attributes, 7);
    },
  },
  {
    id: 'get-exact', item: '§8.22', title: 'GetVariable with DataSize 4: SUCCESS, the data, Attributes 7 (never 0x40)',
    async run(ctx) {
      await mustSet(ctx, 'Conf22', VENDOR, NV_BS_RT | AP, DATA4);
      const r = await ctx.client.getVariableWith('Conf22', VENDOR, 4);
      ctx.expect('status', r.status, S.SUCCESS);
      ctx.expect('data', r.data, DATA4);
      ctx.expect('Attributes', r.attributes, 7);
      const big = await ctx.client.getVariableWith('Conf22', VENDOR, 100);
      ctx.expect('larger buffer: status', big.status, S.SUCCESS);
      ctx.expect('larger buffer: DataSize', big.dataSize, 4);
    },
  },
  {
    id: 'get-missing', item: '§8.23', title: 'GetVariable of a missing variable: NOT_FOUND',
    async run(ctx) {
      ctx.expect('missing name', (await ctx.client.getVariableWith('NoSuchVar', VENDOR, 16)).status, S.NOT_FOUND);
      ctx.expect('SetupMode under another GUID', (await ctx.client.getVariableWith('SetupMode', VENDOR, 16)).status, S.NOT_FOUND);
      ctx.expect('setupmode (case differs)', (await ctx.client.getVariableWith('setupmode', GLOBAL, 16)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'get-short-message', item: '§8.24', title: 'GetVariable with MessageLength < 52: BAD_BUFFER_SIZE',
    async run(ctx) {
      const req = withMessageLength(getVariableRequest({ name: 'SetupMode', guid: GLOBAL, dataSize: 0 }), 51);
      ctx.expect('ReturnStatus', await rawStatus(ctx, req), S.BAD_BUFFER_SIZE);
    },
  },
  {
    id: 'get-huge-name-size', item: '§8.25', title: 'GetVariable with NameSize > 262144: OUT_OF_RESOURCES',
    async run(ctx) {
      const req = getVariableRequest({ name: 'SetupMode', guid: GLOBAL, dataSize: 0 });
      new DataView(req.buffer).setBigUint64(MM_HEADER_SIZE + Access.nameSize, 262146n, true);
      ctx.expect('ReturnStatus', await rawStatus(ctx, req), S.OUT_OF_RESOURCES);
    },
  },
  {
    id: 'name-surrogate', item: '§8.26', title: 'A name containing 0xD800: INVALID_PARAMETER',
    async run(ctx) {
      const bad = Uint8Array.from([0x41, 0, 0x00, 0xd8, 0x42, 0, 0, 0]);
      ctx.expect('GetVariable', (await ctx.client.getVariableWith(bad, VENDOR, 8)).status, S.INVALID_PARAMETER);
      ctx.expect('SetVariable', await ctx.client.setVariable(bad, VENDOR, NV_BS_RT, DATA4), S.INVALID_PARAMETER);
    },
  },
  {
    id: 'attributes-mismatch', item: '§8.27', title: 'Rewriting with other attributes (3 vs 7): INVALID_PARAMETER',
    async run(ctx) {
      await mustSet(ctx, 'Conf27', VENDOR, NV_BS_RT, DATA4);
      ctx.expect('rewrite with 0x3', await ctx.client.setVariable('Conf27', VENDOR, NV | BS, DATA4), S.INVALID_PARAMETER);
      ctx.expect('the variable is unchanged', (await ctx.client.getVariable('Conf27', VENDOR)).attributes, 7);
    },
  },
  {
    id: 'attributes-zero-with-data', item: '§8.28', title: 'Attributes 0 with data on an existing variable (edk2: deletes)', marker: 'DIFF',
    async run(ctx) {
      await mustSet(ctx, 'Conf28', VENDOR, NV_BS_RT, DATA4);
      const got = ctx.either('SetVariable attributes 0', await ctx.client.setVariable('Conf28', VENDOR, 0, DATA4),
        { edk2: S.SUCCESS, qemu: S.ACCESS_DENIED });
      ctx.expect('GetVariable afterwards', (await ctx.client.getVariable('Conf28', VENDOR)).status, got === 'edk2' ? S.NOT_FOUND : S.SUCCESS);
    },
  },
  {
    id: 'delete-missing', item: '§8.29', title: 'DataSize 0 on a missing variable (edk2: NOT_FOUND)', marker: 'DIFF',
    async run(ctx) {
      ctx.either('delete of a missing variable', await ctx.client.setVariable('Conf29', VENDOR, NV_BS_RT, new Uint8Array(0)),
        { edk2: S.NOT_FOUND, qemu: S.SUCCESS });
      ctx.expect('nothing was created', (await ctx.client.getVariable('Conf29', VENDOR)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'attributes-unsupported', item: '§8.30', title: 'Attributes 0x87 or 0x17 with data: UNSUPPORTED',
    async run(ctx) {
      ctx.expect('0x87', await ctx.client.setVariable('Conf30a', VENDOR, 0x80 | NV_BS_RT, DATA4), S.UNSUPPORTED);
      ctx.expect('0x17 (AUTHENTICATED_WRITE_ACCESS)', await ctx.client.setVariable('Conf30b', VENDOR, AW | NV_BS_RT, DATA4), S.UNSUPPORTED);
      ctx.expect('nothing stored', (await ctx.client.getVariable('Conf30a', VENDOR)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'append-plain', item: '§8.31', title: 'APPEND_WRITE: new variable created with 0x07; on an existing one (edk2: appends)', marker: 'DIFF',
    async run(ctx) {
      ctx.expect('APPEND to a new variable', await ctx.client.setVariable('Conf31', VENDOR, NV_BS_RT | AP, DATA4), S.SUCCESS);
      ctx.expect('stored attributes', (await ctx.client.getVariable('Conf31', VENDOR)).attributes, 0x07);
      const more = Uint8Array.from([1, 2]);
      const got = ctx.either('APPEND to an existing variable', await ctx.client.setVariable('Conf31', VENDOR, NV_BS_RT | AP, more),
        { edk2: S.SUCCESS, qemu: S.UNSUPPORTED });
      const after = await ctx.client.getVariable('Conf31', VENDOR);
      ctx.expect('data afterwards', after.data, got === 'edk2' ? Uint8Array.from([...DATA4, 1, 2]) : DATA4);
    },
  },
  {
    id: 'runtime-only-at-boot', item: '§8.32', title: 'Attributes 0x04 (RT only) before ExitBootServices (edk2: INVALID_PARAMETER)', marker: 'DIFF',
    async run(ctx) {
      ctx.either('SetVariable 0x04', await ctx.client.setVariable('Conf32', VENDOR, RT, DATA4), { edk2: S.INVALID_PARAMETER, qemu: S.ACCESS_DENIED });
      ctx.expect('nothing stored', (await ctx.client.getVariable('Conf32', VENDOR)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'runtime-access', item: '§8.33', title: 'After ExitBootServices: BS-only variables hidden; RT-only create', marker: 'DIFF',
    async run(ctx) {
      await mustSet(ctx, 'Conf33Bs', VENDOR, NV | BS, DATA4);
      await mustSet(ctx, 'Conf33Rt', VENDOR, NV_BS_RT, DATA4);
      await ctx.client.toRuntime();
      ctx.either('GetVariable of a BS-only variable', (await ctx.client.getVariable('Conf33Bs', VENDOR)).status, { edk2: S.NOT_FOUND, qemu: S.ACCESS_DENIED });
      ctx.expect('GetVariable of a BS|RT variable', (await ctx.client.getVariable('Conf33Rt', VENDOR)).status, S.SUCCESS);
      const listed = await names(ctx);
      ctx.expect('GetNext skips the BS-only variable', listed.includes(`Conf33Bs@${VENDOR.slice(0, 8)}`), false);
      ctx.expect('GetNext lists the BS|RT variable', listed.includes(`Conf33Rt@${VENDOR.slice(0, 8)}`), true);
      ctx.expect('GetNext skips CustomMode (NV|BS)', listed.some((n) => n.startsWith('CustomMode@')), false);
      ctx.either('creating an RT-only variable', await ctx.client.setVariable('Conf33New', VENDOR, RT, DATA4), { edk2: S.INVALID_PARAMETER, qemu: S.SUCCESS });
    },
  },
  {
    id: 'update-moves-to-end', item: '§8.34', title: 'Updating a variable moves it to the end of the enumeration',
    async run(ctx) {
      for (const n of ['OrderA', 'OrderB', 'OrderC']) await mustSet(ctx, n, VENDOR, BS, DATA4);
      await mustSet(ctx, 'OrderA', VENDOR, BS, Uint8Array.from([9]));
      const mine = (await names(ctx)).filter((n) => n.startsWith('Order'));
      const v = VENDOR.slice(0, 8);
      ctx.expect('order after updating OrderA', mine, [`OrderB@${v}`, `OrderC@${v}`, `OrderA@${v}`]);
    },
  },
  {
    id: 'getnext-unknown-current', item: '§8.35', title: 'GetNextVariableName from an unknown current name: INVALID_PARAMETER',
    async run(ctx) {
      ctx.expect('unknown name', (await ctx.client.getNextVariableName('NotThere', VENDOR, 64)).status, S.INVALID_PARAMETER);
      ctx.expect('SetupMode under the wrong GUID', (await ctx.client.getNextVariableName('SetupMode', VENDOR, 64)).status, S.INVALID_PARAMETER);
    },
  },
  {
    id: 'getnext-buffer-too-small', item: '§8.36', title: 'GetNext: next name longer than MessageLength allows → BUFFER_TOO_SMALL with the needed NameSize',
    async run(ctx) {
      // "SetupMode" needs 20 bytes: a message with room for 4 is too small.
      const r = await ctx.client.getNextVariableName('', GLOBAL, 4);
      ctx.expect('status', r.status, S.BUFFER_TOO_SMALL);
      ctx.expect('NameSize', r.nameSize, 20);
      const ok = await ctx.client.getNextVariableName('', GLOBAL, 20);
      ctx.expect('exact buffer: status', ok.status, S.SUCCESS);
      ctx.expect('exact buffer: name', nameText(ok.name), 'SetupMode');
    },
  },
  {
    id: 'getnext-namesize-capacity', item: '§8.36', title: 'GetNext with a large MessageLength but NameSize 2 (edk2: BUFFER_TOO_SMALL)', marker: 'DIFF',
    async run(ctx) {
      const req = getNextRequest({ name: '', guid: GLOBAL, bufferSize: 512 });
      new DataView(req.buffer).setBigUint64(MM_HEADER_SIZE + GetNext.nameSize, 2n, true);
      const reply = await ctx.client.variableCall(req, 'GetNextVariableName');
      ctx.either('status', replyStatus(reply), { edk2: S.BUFFER_TOO_SMALL, qemu: S.SUCCESS });
      ctx.expect('NameSize (needed or returned)', nameFieldsOf(reply.subarray(MM_HEADER_SIZE))?.nameSize ?? -1, 20);
    },
  },
  {
    id: 'unsupported-functions', item: '§8.37', title: 'Functions 0, 7, 9, 10, 12, 13, 14, 99: UNSUPPORTED',
    async run(ctx) {
      for (const fn of [0, 7, 9, 10, 12, 13, 14, 99]) ctx.expect(`function ${fn}`, await ctx.client.functionCall(fn), S.UNSUPPORTED);
    },
  },
  {
    id: 'phase-functions', item: '§8.38', title: 'Functions 5 and 6: SUCCESS; after 6 BS-only variables are out of reach',
    async run(ctx) {
      await mustSet(ctx, 'Conf38', VENDOR, BS, DATA4);
      ctx.expect('READY_TO_BOOT', await ctx.client.functionCall(5), S.SUCCESS);
      ctx.expect('BS variable still readable after 5', (await ctx.client.getVariable('Conf38', VENDOR)).status, S.SUCCESS);
      ctx.expect('EXIT_BOOT_SERVICE', await ctx.client.functionCall(6), S.SUCCESS);
      const after = (await ctx.client.getVariable('Conf38', VENDOR)).status;
      if (after !== S.ACCESS_DENIED && after !== S.NOT_FOUND) throw new CaseFailure(`BS variable after function 6: expected EFI_ACCESS_DENIED (QEMU) or EFI_NOT_FOUND (edk2), got 0x${after.toString(16)}`);
    },
  },
  {
    id: 'storage-accounting', item: '§8.39', title: 'Used storage is 96 + NameSize + DataSize; a write past `size` → OUT_OF_RESOURCES', config: { size: 65536 },
    async run(ctx) {
      const q0 = await ctx.client.queryVariableInfo(NV_BS_RT);
      ctx.expect('MaximumVariableStorageSize with size=65536', q0.maximumStorage, 65536n);
      await mustSet(ctx, 'Acct', VENDOR, NV_BS_RT, new Uint8Array(10));
      const q1 = await ctx.client.queryVariableInfo(NV_BS_RT);
      ctx.expect('storage used by "Acct" (NameSize 10) with 10 data bytes', q0.remainingStorage - q1.remainingStorage, 96n + 10n + 10n);
      const room = Number(q1.remainingStorage) - 96 - 10; // NameSize of "Fill" + NUL = 10
      ctx.expect('one byte more than fits', await ctx.client.setVariable('Fill', VENDOR, NV_BS_RT, new Uint8Array(room + 1)), S.OUT_OF_RESOURCES);
      ctx.expect('exactly what fits', await ctx.client.setVariable('Fill', VENDOR, NV_BS_RT, new Uint8Array(room)), S.SUCCESS);
      ctx.expect('remaining afterwards', (await ctx.client.queryVariableInfo(NV_BS_RT)).remainingStorage, 0n);
    },
  },
  {
    id: 'lock-variable', item: '§8.40', title: 'LOCK_VARIABLE then EndOfDxe: writes → WRITE_PROTECTED; late LOCK_VARIABLE (edk2: refused)', marker: 'DIFF',
    async run(ctx) {
      await mustSet(ctx, 'Conf40', VENDOR, NV_BS_RT, DATA4);
      ctx.expect('LOCK_VARIABLE before EndOfDxe', await ctx.client.lockVariable('Conf40', VENDOR), S.SUCCESS);
      ctx.expect('update before EndOfDxe', await ctx.client.setVariable('Conf40', VENDOR, NV_BS_RT, Uint8Array.from([5])), S.SUCCESS);
      ctx.expect('EndOfDxe', await ctx.client.event('endOfDxe'), 0);
      ctx.expect('update after EndOfDxe', await ctx.client.setVariable('Conf40', VENDOR, NV_BS_RT, DATA4), S.WRITE_PROTECTED);
      ctx.expect('delete after EndOfDxe', await ctx.client.setVariable('Conf40', VENDOR, NV_BS_RT, new Uint8Array(0)), S.WRITE_PROTECTED);
      ctx.expect('other names unaffected', await ctx.client.setVariable('Conf40x', VENDOR, NV_BS_RT, DATA4), S.SUCCESS);
      ctx.either('LOCK_VARIABLE after EndOfDxe', await ctx.client.lockVariable('Conf40y', VENDOR), { edk2: S.ACCESS_DENIED, qemu: S.SUCCESS });
    },
  },
  {
    id: 'set-short-message', item: '§2.5.3', title: 'SetVariable whose data runs past MessageLength: BAD_BUFFER_SIZE, nothing stored',
    async run(ctx) {
      const req = setVariableRequest({ name: 'Conf253', guid: VENDOR, attributes: NV_BS_RT, data: new Uint8Array(32) });
      ctx.expect('ReturnStatus', await rawStatus(ctx, withMessageLength(req, VAR_HEADER_SIZE + ACCESS_VARIABLE_FIXED + 16 + 16)), S.BAD_BUFFER_SIZE);
      ctx.expect('nothing stored', (await ctx.client.getVariable(nameBytes('Conf253'), VENDOR)).status, S.NOT_FOUND);
    },
  },
];
