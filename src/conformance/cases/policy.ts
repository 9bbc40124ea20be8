/** Spec §8 items 58–66: VarCheckPolicy (§5). */
import { PolicyCommand, LockPolicy, encodePolicyEntry } from '../../client/policy-requests.js';
import type { ConformanceCase } from '../case.js';
import { BS, DATA4, NV, NV_BS_RT, RT, S, VENDOR, hardReset, mustSet } from './helpers.js';

/** edk2 sizes a DUMP page to fill its 16 KiB policy buffer: 16384 - (24 + 20 + 13). */
const DUMP_PAGE = 16327;

const NS = '3c2b1a09-8f7e-4d6c-b5a4-938271605f4e';
const STATE_NS = '5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716';

export const policyCases: ConformanceCase[] = [
  {
    id: 'policy-commands', item: '§8.58', title: 'IS_ENABLED: SUCCESS, State 1; DISABLE and DUMP (edk2: refused / paginated)', marker: 'DIFF',
    async run(ctx) {
      const e = await ctx.client.policyIsEnabled();
      ctx.expect('IS_ENABLED status', e.status, S.SUCCESS);
      ctx.expect('IS_ENABLED State', e.state, 1);
      ctx.either('DISABLE', (await ctx.client.policy(PolicyCommand.DISABLE)).status, { edk2: S.WRITE_PROTECTED, qemu: S.UNSUPPORTED });
      ctx.expect('still enabled after DISABLE', (await ctx.client.policyIsEnabled()).state, 1);
      ctx.either('DUMP', (await ctx.client.policy(PolicyCommand.DUMP, new Uint8Array(13 + DUMP_PAGE))).status, { edk2: S.SUCCESS, qemu: S.UNSUPPORTED });
    },
  },
  {
    id: 'policy-duplicate', item: '§8.59', title: 'REGISTER of the same namespace and name twice: ALREADY_STARTED',
    async run(ctx) {
      ctx.expect('first REGISTER', await ctx.client.registerPolicy({ namespace: NS, name: 'Dup' }), S.SUCCESS);
      ctx.expect('second REGISTER', await ctx.client.registerPolicy({ namespace: NS, name: 'Dup', lockType: LockPolicy.LOCK_NOW }), S.ALREADY_STARTED);
      ctx.expect('same name, other namespace', await ctx.client.registerPolicy({ namespace: VENDOR, name: 'Dup' }), S.SUCCESS);
    },
  },
  {
    id: 'policy-bad-sizes', item: '§8.60', title: 'REGISTER with Size 43 or OffsetToName 40: BAD_BUFFER_SIZE',
    async run(ctx) {
      const small = encodePolicyEntry({ namespace: NS, name: 'X' }).subarray(0, 43);
      new DataView(small.buffer, small.byteOffset).setUint16(4, 43, true);
      ctx.expect('Size 43', (await ctx.client.policy(PolicyCommand.REGISTER, small)).status, S.BAD_BUFFER_SIZE);
      const off = encodePolicyEntry({ namespace: NS, name: 'Y', offsetToName: 40 });
      ctx.expect('OffsetToName 40', (await ctx.client.policy(PolicyCommand.REGISTER, off)).status, S.BAD_BUFFER_SIZE);
    },
  },
  {
    id: 'policy-enforced-after-end-of-dxe', item: '§8.61', title: 'Policies apply only after EndOfDxe; Boot#### LOCK_NOW blocks Boot00A1, not Boot00G1',
    async run(ctx) {
      ctx.expect('REGISTER Boot#### LOCK_NOW', await ctx.client.registerPolicy({ namespace: NS, name: 'Boot####', lockType: LockPolicy.LOCK_NOW }), S.SUCCESS);
      ctx.expect('Boot00A1 before EndOfDxe', await ctx.client.setVariable('Boot00A1', NS, NV_BS_RT, DATA4), S.SUCCESS);
      ctx.expect('EndOfDxe', await ctx.client.event('endOfDxe'), 0);
      ctx.expect('Boot00A1 after EndOfDxe', await ctx.client.setVariable('Boot00A1', NS, NV_BS_RT, DATA4), S.WRITE_PROTECTED);
      ctx.expect('Boot00B2 (new) after EndOfDxe', await ctx.client.setVariable('Boot00B2', NS, NV_BS_RT, DATA4), S.WRITE_PROTECTED);
      ctx.expect('Boot00G1 (G is no hex digit)', await ctx.client.setVariable('Boot00G1', NS, NV_BS_RT, DATA4), S.SUCCESS);
    },
  },
  {
    id: 'policy-constraints', item: '§8.62', title: 'MinSize / MaxSize / MustHave / CantHave violations: INVALID_PARAMETER',
    async run(ctx) {
      const c = ctx.client;
      ctx.expect('REGISTER Sized', await c.registerPolicy({ namespace: NS, name: 'Sized', minSize: 2, maxSize: 4 }), S.SUCCESS);
      ctx.expect('REGISTER Must', await c.registerPolicy({ namespace: NS, name: 'Must', mustHave: NV }), S.SUCCESS);
      ctx.expect('REGISTER Cant', await c.registerPolicy({ namespace: NS, name: 'Cant', cantHave: RT }), S.SUCCESS);
      ctx.expect('EndOfDxe', await c.event('endOfDxe'), 0);
      ctx.expect('1 byte < MinSize 2', await c.setVariable('Sized', NS, NV_BS_RT, Uint8Array.from([1])), S.INVALID_PARAMETER);
      ctx.expect('5 bytes > MaxSize 4', await c.setVariable('Sized', NS, NV_BS_RT, new Uint8Array(5)), S.INVALID_PARAMETER);
      ctx.expect('3 bytes fit', await c.setVariable('Sized', NS, NV_BS_RT, new Uint8Array(3)), S.SUCCESS);
      ctx.expect('without the NV that is a must', await c.setVariable('Must', NS, BS | RT, DATA4), S.INVALID_PARAMETER);
      ctx.expect('with NV', await c.setVariable('Must', NS, NV_BS_RT, DATA4), S.SUCCESS);
      ctx.expect('with the RT it can\'t have', await c.setVariable('Cant', NS, NV_BS_RT, DATA4), S.INVALID_PARAMETER);
      ctx.expect('without RT', await c.setVariable('Cant', NS, NV | BS, DATA4), S.SUCCESS);
    },
  },
  {
    id: 'policy-lock-on-create', item: '§8.63', title: 'LOCK_ON_CREATE: creating works once, then WRITE_PROTECTED',
    async run(ctx) {
      const c = ctx.client;
      ctx.expect('REGISTER', await c.registerPolicy({ namespace: NS, name: 'Once', lockType: LockPolicy.LOCK_ON_CREATE }), S.SUCCESS);
      ctx.expect('EndOfDxe', await c.event('endOfDxe'), 0);
      ctx.expect('create', await c.setVariable('Once', NS, NV_BS_RT, DATA4), S.SUCCESS);
      ctx.expect('update', await c.setVariable('Once', NS, NV_BS_RT, Uint8Array.from([1])), S.WRITE_PROTECTED);
      ctx.expect('delete', await c.setVariable('Once', NS, NV_BS_RT, new Uint8Array(0)), S.WRITE_PROTECTED);
    },
  },
  {
    id: 'policy-max-size-zero', item: '§8.63', title: 'A policy with MaxSize 0 (edk2: refused at REGISTER)', marker: 'DIFF',
    async run(ctx) {
      const got = ctx.either('REGISTER MaxSize 0', await ctx.client.registerPolicy({ namespace: NS, name: 'Zero', maxSize: 0 }),
        { edk2: S.INVALID_PARAMETER, qemu: S.SUCCESS });
      ctx.expect('EndOfDxe', await ctx.client.event('endOfDxe'), 0);
      ctx.expect('a non-empty write', await ctx.client.setVariable('Zero', NS, NV_BS_RT, DATA4), got === 'qemu' ? S.INVALID_PARAMETER : S.SUCCESS);
    },
  },
  {
    id: 'policy-lock-on-var-state', item: '§8.64', title: 'LOCK_ON_VAR_STATE (edk2 layout) locks when the state variable holds Value', marker: 'BUG',
    async run(ctx) {
      const c = ctx.client;
      ctx.expect('REGISTER', await c.registerPolicy({ namespace: NS, name: 'Guarded', state: { namespace: STATE_NS, name: 'LockVar', value: 1 } }), S.SUCCESS);
      ctx.expect('EndOfDxe', await c.event('endOfDxe'), 0);
      ctx.expect('write while LockVar is absent', await c.setVariable('Guarded', NS, NV_BS_RT, DATA4), S.SUCCESS);
      await mustSet(ctx, 'LockVar', STATE_NS, NV_BS_RT, Uint8Array.from([1]));
      ctx.either('write once LockVar = 01', await c.setVariable('Guarded', NS, NV_BS_RT, Uint8Array.from([2])), { edk2: S.WRITE_PROTECTED, qemu: S.SUCCESS });
    },
  },
  {
    id: 'policy-namespace-only', item: '§8.65', title: 'A namespace-only policy applies to every name in it', marker: 'BUG',
    async run(ctx) {
      ctx.expect('REGISTER (no name)', await ctx.client.registerPolicy({ namespace: NS, lockType: LockPolicy.LOCK_NOW }), S.SUCCESS);
      ctx.expect('EndOfDxe', await ctx.client.event('endOfDxe'), 0);
      ctx.either('write in the namespace', await ctx.client.setVariable('Anything', NS, NV_BS_RT, DATA4), { edk2: S.WRITE_PROTECTED, qemu: S.SUCCESS });
      ctx.expect('other namespaces unaffected', await ctx.client.setVariable('Anything', VENDOR, NV_BS_RT, DATA4), S.SUCCESS);
    },
  },
  {
    id: 'policy-lock-and-reset', item: '§8.66', title: 'After LOCK, REGISTER → WRITE_PROTECTED; a device reset drops the policies', needs: ['reset'],
    async run(ctx) {
      const c = ctx.client;
      ctx.expect('REGISTER', await c.registerPolicy({ namespace: NS, name: 'Gone', lockType: LockPolicy.LOCK_NOW }), S.SUCCESS);
      ctx.expect('LOCK', (await c.policy(PolicyCommand.LOCK)).status, S.SUCCESS);
      ctx.expect('REGISTER after LOCK', await c.registerPolicy({ namespace: NS, name: 'Late' }), S.WRITE_PROTECTED);
      await hardReset(ctx);
      ctx.expect('REGISTER after reset', await c.registerPolicy({ namespace: NS, name: 'Late' }), S.SUCCESS);
      ctx.expect('EndOfDxe', await c.event('endOfDxe'), 0);
      ctx.expect('the pre-reset LOCK_NOW policy is gone', await c.setVariable('Gone', NS, NV_BS_RT, DATA4), S.SUCCESS);
    },
  },
];
