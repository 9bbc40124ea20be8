import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers/cli.js';
import { COMMANDS, loadAllCommands } from '../../src/cli/main.js';
import { helpText, HELP_OPTION } from '../../src/cli/command.js';
import { cliMarkdown, manPage } from '../../src/cli/docs-gen.js';
import { JSON_SCHEMAS } from '../../src/cli/json-schemas.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const NAMES = Object.keys(COMMANDS);

test('--version and -V print package.json\'s version', () => {
  for (const a of ['--version', '-V']) {
    const r = cli(a);
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines, [VERSION]);
  }
});

test('--help lists every command of the table with its summary', async () => {
  const r = cli('--help');
  assert.equal(r.code, 0);
  for (const c of await loadAllCommands()) assert.match(r.stdout, new RegExp(`^  ${c.spec.name} +${c.spec.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), c.spec.name);
});

for (const name of NAMES) {
  test(`${name}: --help, -h and help ${name} print the spec's help with every option, exit 0; --version the version`, async () => {
    const { spec } = await COMMANDS[name]!();
    const expected = helpText(spec);
    for (const args of [[name, '--help'], [name, '-h'], ['help', name]]) {
      const r = cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout.trimEnd(), expected);
      assert.equal(r.stderr, '');
    }
    for (const o of [...spec.options, HELP_OPTION]) {
      assert.ok(expected.includes(`--${o.name}`), `--${o.name} in help`);
      if (o.short) assert.ok(expected.includes(`-${o.short}, --${o.name}`), `-${o.short} in help`);
    }
    const v = cli(name, '--version');
    assert.equal(v.code, 0);
    assert.deepEqual(v.lines, [VERSION]);
  });

  test(`${name}: an unknown option is one line naming it, exit 1`, () => {
    const r = cli(name, 'x', '--no-such-option-zz');
    assert.equal(r.code, 1, r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /unknown option --no-such-option-zz/);
  });
}

test('a misspelt option gets the nearest one suggested', () => {
  const r = cli('get', 'x.json', 'PK', '--jsno');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /did you mean --json\?/);
});

/** Options docs/cli.md names that belong to other programs (node, systemd-notify) or are examples of a typo. */
const NOT_OURS = new Set(['--single-threaded-gc', '--pid', '--jsn']);

test('every option docs/cli.md mentions appears in the help of some command', async () => {
  const doc = readFileSync('docs/cli.md', 'utf8');
  const helps = (await loadAllCommands()).map((c) => helpText(c.spec)).join('\n') + '\n--version\n';
  const mentioned = new Set(doc.match(/--[a-z][a-z0-9-]*/g) ?? []);
  assert.ok(mentioned.size > 40, 'the doc names the options');
  for (const o of mentioned) {
    if (NOT_OURS.has(o)) continue;
    assert.ok(new RegExp(`${o}(?![a-z0-9-])`).test(helps), `${o} is documented but in no --help`);
  }
});

test('docs/cli.md\'s generated sections and docs/uefi-vars.1 are current (npm run docs)', async () => {
  const specs = (await loadAllCommands()).map((c) => c.spec);
  const doc = readFileSync('docs/cli.md', 'utf8');
  assert.equal(cliMarkdown(doc, specs, JSON_SCHEMAS), doc, 'docs/cli.md is stale: run npm run docs');
  assert.equal(manPage(specs, VERSION), readFileSync('docs/uefi-vars.1', 'utf8'), 'docs/uefi-vars.1 is stale: run npm run docs');
  for (const s of specs) assert.ok(doc.includes(`### ${s.name}\n`), `${s.name} has a section in the options reference`);
});

test('the man page renders without warnings where man is installed', (t) => {
  if (spawnSync('sh', ['-c', 'command -v man && command -v groff'], { encoding: 'utf8' }).status !== 0) { t.skip('man/groff not installed'); return; }
  const r = spawnSync('man', ['--warnings', '-l', '-Tutf8', 'docs/uefi-vars.1'], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '');
  const text = r.stdout.replace(/.\x08/g, ''); // overstrike bold and underline
  for (const n of NAMES) assert.match(text, new RegExp(`^ {3}${n}$`, 'm'));
});

function bashComplete(script: string, dir: string, words: string[]): string[] {
  const f = join(dir, 'c.bash');
  writeFileSync(f, script);
  const line = `source ${f}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _uefi_vars; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('completion bash completes commands, options and choice values from the specs', async (t) => {
  const dir = tempDir(t);
  const r = cli('completion', 'bash');
  assert.equal(r.code, 0);
  assert.deepEqual(bashComplete(r.stdout, dir, ['uefi-vars', 'con']), ['conformance', 'convert']);
  assert.deepEqual(bashComplete(r.stdout, dir, ['uefi-vars', 'convert', '--t']), ['--template', '--to']);
  assert.deepEqual(bashComplete(r.stdout, dir, ['uefi-vars', 'convert', '--to', '']), ['aws', 'edk2', 'json']);
  assert.deepEqual(bashComplete(r.stdout, dir, ['uefi-vars', 'set', 'x', '--phase', 'r']), ['runtime']);
  const serve = (await COMMANDS['serve']!()).spec;
  const all = bashComplete(r.stdout, dir, ['uefi-vars', 'serve', '--']);
  for (const o of serve.options) assert.ok(all.includes(`--${o.name}`), `--${o.name}`);
});

test('completion zsh and fish scripts parse in their shells (where installed) and name every command', (t) => {
  for (const shell of ['zsh', 'fish'] as const) {
    const r = cli('completion', shell);
    assert.equal(r.code, 0);
    for (const n of NAMES) assert.ok(r.stdout.includes(n), `${shell}: ${n}`);
    if (spawnSync('sh', ['-c', `command -v ${shell}`]).status !== 0) { t.diagnostic(`${shell} not installed: syntax not checked`); continue; }
    const dir = tempDir(t);
    const f = join(dir, `c.${shell}`);
    writeFileSync(f, r.stdout);
    const check = spawnSync(shell, ['-n', f], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  }
  assert.equal(cli('completion', 'tcsh').code, 1);
  assert.ok(existsSync('docs/uefi-vars.1'));
});
