/**
 * npm run docs: docs/cli.md's options and --json sections and docs/uefi-vars.1
 * from the command specs (src/cli/*), so --help, the docs and the man page
 * cannot disagree. test/cli/docs.test.ts fails when they are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllCommands, version } from '../src/cli/main.js';
import { cliMarkdown, manPage } from '../src/cli/docs-gen.js';
import { JSON_SCHEMAS } from '../src/cli/json-schemas.js';

const root = process.cwd();
const specs = (await loadAllCommands()).map((c) => c.spec);
const cliPath = join(root, 'docs/cli.md');
const manPath = join(root, 'docs/uefi-vars.1');
writeFileSync(cliPath, cliMarkdown(readFileSync(cliPath, 'utf8'), specs, JSON_SCHEMAS));
writeFileSync(manPath, manPage(specs, version()));
console.log(`wrote ${cliPath} and ${manPath} (${specs.length} commands)`);
