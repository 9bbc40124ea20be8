/** Spec §8 item 70: what survives a device reset (§1.7). */
import type { ConformanceCase } from '../case.js';
import { BS, DATA4, GLOBAL, NV, S, VENDOR, hardReset, mustSet } from './helpers.js';

export const storeCases: ConformanceCase[] = [
  {
    id: 'reset-volatile', item: '§8.70', title: 'Volatile variables vanish at reset; NV ones survive; phases start over', needs: ['reset'],
    async run(ctx) {
      await mustSet(ctx, 'Volatile70', VENDOR, BS, DATA4);
      await mustSet(ctx, 'Durable70', VENDOR, NV | BS, DATA4);
      await ctx.client.toRuntime();
      await hardReset(ctx);
      ctx.expect('volatile variable', (await ctx.client.getVariable('Volatile70', VENDOR)).status, S.NOT_FOUND);
      const nv = await ctx.client.getVariable('Durable70', VENDOR);
      ctx.expect('NV variable (readable again: boot phase reset)', nv.status, S.SUCCESS);
      ctx.expect('NV data', nv.data, DATA4);
      ctx.expect('SetupMode re-created', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, Uint8Array.from([1]));
    },
  },
];
