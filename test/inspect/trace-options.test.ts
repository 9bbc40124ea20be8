import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseTraceOptions, optionsFileFor, TraceOptionsError } from '../../src/inspect/trace-options.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { replayTrace } from '../../src/replay/replay.js';
import { VariableService } from '../../src/service/variable-service.js';
import { SHARED } from '../helpers/cli.js';

test('the CLI spelling and QEMU\'s property spelling give the same options', () => {
  const cli = parseTraceOptions('--size 65536 --force-secure-boot --disable-custom-mode --use-pio\n');
  const qemu = parseTraceOptions('size=65536,force-secure-boot=on,disable-custom-mode=on,use-pio=on');
  assert.deepEqual(cli, { service: { size: 65536, forceSecureBoot: true, disableCustomMode: true }, usePio: true });
  assert.deepEqual(qemu, cli);
  assert.deepEqual(parseTraceOptions('-device uefi-vars-x64,size=64k,use-pio=off'), { service: { size: 65536 }, usePio: false });
  assert.deepEqual(parseTraceOptions('--size=1M'), { service: { size: 1 << 20 }, usePio: false });
  assert.deepEqual(parseTraceOptions(''), { service: {}, usePio: false });
});

test('an unknown option or a bad value is refused, naming it', () => {
  assert.throws(() => parseTraceOptions('--size 65536 --sizee 1'), (e: Error) => e instanceof TraceOptionsError && /--sizee/.test(e.message));
  assert.throws(() => parseTraceOptions('--size'), /size: expected a byte count/);
  assert.throws(() => parseTraceOptions('--size -1'), /size: expected a byte count/);
  assert.throws(() => parseTraceOptions('size=99999999999'), /out of range/);
  assert.throws(() => parseTraceOptions('force-secure-boot=maybe'), /expected on or off/);
  assert.throws(() => parseTraceOptions('bogus=on'), /unknown option "bogus=on"/);
});

test('optionsFileFor pairs x.pcap and x.pcap.gz with x.options', () => {
  assert.equal(optionsFileFor('a/storage-exhaustion-64k.pcap'), 'a/storage-exhaustion-64k.options');
  assert.equal(optionsFileFor('t.PCAP.gz'), 't.options');
});

test('every trace with an options file replays exactly only with its options', async () => {
  const dir = join(SHARED, 'traces/qemu-conformance');
  const withOptions = readdirSync(dir).filter((f) => f.endsWith('.options'));
  assert.ok(withOptions.length >= 2);
  for (const f of withOptions) {
    const records = parsePcap(readFileSync(join(dir, f.replace(/\.options$/, '.pcap'))));
    const options = parseTraceOptions(readFileSync(join(dir, f), 'utf8'));
    const right = await replayTrace(records, await VariableService.create({ options: options.service }));
    const wrong = await replayTrace(records, await VariableService.create({}));
    assert.equal(right.mismatches, 0, f);
    assert.ok(wrong.mismatches > 0, `${f}: the options must matter for this recording`);
  }
});
