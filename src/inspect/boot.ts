import { Guids } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import type { Variable } from '../store/variable.js';
import { decodeLoadOption, decodeUint16List, optionName, type LoadOption } from './load-option.js';

/** Boot manager state (UEFI 2.10 §3.3): the Boot#### options, BootOrder, BootNext, BootCurrent. */
export interface BootFacts {
  entries: Array<{ name: string; number: number } & (LoadOption | { malformed: true })>;
  /** Option names in boot order; absent without a (well-formed) BootOrder. */
  order?: string[];
  next?: string;
  current?: string;
}

const BOOT_OPTION = /^Boot[0-9A-F]{4}$/;

export function bootFacts(vars: readonly Variable[]): BootFacts {
  const global = vars.filter((v) => v.guid === Guids.globalVariable && v.data.length > 0);
  const byName = new Map(global.map((v) => [nameKey(v.name), v]));
  const entries: BootFacts['entries'] = [];
  for (const [name, v] of [...byName].filter(([n]) => BOOT_OPTION.test(n)).sort(([a], [b]) => a.localeCompare(b))) {
    const number = parseInt(name.slice(4), 16);
    entries.push({ name, number, ...(decodeLoadOption(v.data) ?? { malformed: true as const }) });
  }
  const facts: BootFacts = { entries };
  const order = byName.get('BootOrder');
  const list = order && decodeUint16List(order.data);
  if (list) facts.order = list.map((n) => optionName('Boot', n));
  for (const [key, varName] of [['next', 'BootNext'], ['current', 'BootCurrent']] as const) {
    const v = byName.get(varName);
    if (v?.data.length === 2) facts[key] = optionName('Boot', v.data[0]! | (v.data[1]! << 8));
  }
  return facts;
}
