import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

/**
 * The dependency rule of docs/architecture.md is enforced by eslint.config.js;
 * these lint fixture sources at virtual paths inside src/ to show it bites.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function messages(code: string, filePath: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('a Node built-in imported into a core folder is a lint error', async () => {
  for (const [file, mod] of [['src/wire/x.ts', 'node:fs'], ['src/service/x.ts', 'fs'], ['src/auth/deep/x.ts', 'node:crypto'], ['src/client/x.ts', 'node:net']] as const) {
    const m = await messages(`import { x } from '${mod}';\nexport const y = x;\n`, file);
    assert.equal(m.length, 1, `${file} importing ${mod}`);
    assert.match(m[0]!, /pure core/);
  }
});

test('an upward import is a lint error, a downward one is not', async () => {
  assert.equal((await messages(`import { x } from '../service/variable-service.js';\nexport const y = x;\n`, 'src/store/x.ts')).length, 1);
  assert.equal((await messages(`import { x } from '../../service/variable-service.js';\nexport const y = x;\n`, 'src/persist/edk2/x.ts')).length, 1);
  assert.equal((await messages(`import { x } from '../daemon/server.js';\nexport const y = x;\n`, 'src/device/x.ts')).length, 1);
  assert.equal((await messages(`import { x } from '../cli/main.js';\nexport const y = x;\n`, 'src/daemon/x.ts')).length, 1);
  assert.equal((await messages(`import { x } from '../wire/guid.js';\nimport { z } from '../store/store.js';\nexport const y = [x, z];\n`, 'src/auth/x.ts')).length, 0);
  assert.equal((await messages(`import { x } from '../store/store.js';\nimport { readFile } from 'node:fs/promises';\nexport const y = [x, readFile];\n`, 'src/persist/x.ts')).length, 0);
});

test('the Node side of a pure folder may use Node but not climb layers', async () => {
  assert.equal((await messages(`import { connect } from 'node:net';\nexport const y = connect;\n`, 'src/client/node/x.ts')).length, 0);
  assert.equal((await messages(`import { x } from '../../cli/main.js';\nexport const y = x;\n`, 'src/client/node/x.ts')).length, 1);
});

test('the tree as committed lints clean under the rule', async () => {
  const results = await eslint.lintFiles(['src']);
  const bad = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}: ${m.message}`));
  assert.deepEqual(bad, []);
});
