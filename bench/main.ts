import { benchReplay, loadTraces } from './replay.js';
import { benchDurable } from './durable.js';
import { benchDbx } from './dbx.js';
import { benchConvert } from './convert.js';
import { benchDaemon } from './daemon.js';
import { benchPostgres } from './postgres.js';
import { benchApply } from './apply.js';
import { benchInspector } from './inspector.js';
import { benchHostile } from './hostile.js';
import { benchFairness } from './fairness.js';
import { benchAbuse } from './abuse.js';
import { line } from './stats.js';

/** `npm run bench`: every figure next to its floor, measured in the same run. */
async function main(): Promise<void> {
  const only = process.argv[2];
  const want = (s: string): boolean => !only || only === s;
  line('uefi-vars bench', `node ${process.version}, ${new Date().toISOString()}`);
  const traces = loadTraces();
  if (want('replay')) await benchReplay(traces);
  if (want('durable')) for (const size of [16 * 1024, 256 * 1024, 1024 * 1024]) await benchDurable(size);
  if (want('dbx')) await benchDbx();
  if (want('convert')) await benchConvert();
  if (want('postgres')) await benchPostgres([16 * 1024, 256 * 1024]);
  if (want('apply')) await benchApply();
  if (want('inspector')) await benchInspector();
  if (want('hostile')) await benchHostile();
  if (want('abuse')) await benchAbuse();
  if (want('fairness')) await benchFairness();
  // `node dist/bench/main.js daemon 40000,50000`: the open-loop offered rates (req/s), default 50000.
  const rates = only === 'daemon' && process.argv[3] ? process.argv[3].split(',').map(Number) : undefined;
  if (rates?.some((r) => !(r > 0))) throw new Error(`bad open-loop rates: ${process.argv[3]}`);
  if (want('daemon')) await benchDaemon(traces, rates);
}

await main();
