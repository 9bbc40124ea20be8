import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, helpText, HelpRequested, UsageError, closest, type CommandSpec } from '../../src/cli/command.js';

const spec: CommandSpec = {
  name: 'demo', summary: 'a demo', usage: ['demo STORE [options]'],
  options: [
    { name: 'json', type: 'boolean', help: 'JSON output' },
    { name: 'output', short: 'o', type: 'string', value: 'FILE', help: 'where to write' },
    { name: 'delete', short: 'd', type: 'string', multiple: true, value: 'VAR', help: 'delete VAR' },
    { name: 'add-db', type: 'string', arity: 2, multiple: true, value: 'GUID CERT', help: 'add a db certificate' },
  ],
};

test('positionals, flags, values, repeatable and two-value options are parsed in order', () => {
  const p = parseCommand(spec, ['S', '--json', '-o', 'out.json', '-d', 'A', '--delete=B', '--add-db', 'g1', 'c1', '--add-db', 'g2', 'c2']);
  assert.deepEqual(p.positional, ['S']);
  assert.ok(p.flags.has('json'));
  assert.equal(p.values.get('output'), 'out.json');
  assert.deepEqual(p.lists.get('delete'), ['A', 'B']);
  assert.deepEqual(p.pairs.get('add-db'), [['g1', 'c1'], ['g2', 'c2']]);
});

test('--help and -h raise HelpRequested whatever else is given', () => {
  assert.throws(() => parseCommand(spec, ['S', '--help']), HelpRequested);
  assert.throws(() => parseCommand(spec, ['-h']), HelpRequested);
});

test('an unknown option is a usage error with the nearest option suggested', () => {
  assert.throws(() => parseCommand(spec, ['--jsn']), (e: Error) => e instanceof UsageError && /unknown option --jsn \(did you mean --json\?\)/.test(e.message));
  assert.throws(() => parseCommand(spec, ['--zzzzzz']), (e: Error) => e instanceof UsageError && !/did you mean/.test(e.message));
});

test('a two-value option missing its second value is a usage error', () => {
  assert.throws(() => parseCommand(spec, ['--add-db', 'g1']), UsageError);
});

test('a value option without its value is a usage error naming the option', () => {
  assert.throws(() => parseCommand(spec, ['--output']), (e: Error) => e instanceof UsageError && /--output/.test(e.message));
});

test('help lists every option with its placeholder', () => {
  const h = helpText(spec);
  for (const s of ['--json', '-o, --output FILE', '--add-db GUID CERT', '-h, --help', 'uefi-vars demo STORE']) assert.ok(h.includes(s), s);
});

test('closest suggests within two edits or a prefix', () => {
  assert.equal(closest('verbos', ['verbose', 'json']), 'verbose');
  assert.equal(closest('enroll-red', ['enroll-redhat', 'no-microsoft']), 'enroll-redhat');
  assert.equal(closest('xyz', ['verbose']), undefined);
});
