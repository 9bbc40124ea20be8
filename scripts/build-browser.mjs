#!/usr/bin/env node
/**
 * Browser builds (run by `npm run build` after tsc):
 *  - dist/browser/uefi-vars.js: the pure core as one ESM module (src/browser.ts);
 *  - dist/browser/inspector.html: the inspector page, its script inlined so the one
 *    file also works opened from disk (Chromium refuses module scripts from file://).
 * Node built-ins are errors: the core must run on WebCrypto alone.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, 'dist/browser');
mkdirSync(out, { recursive: true });

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const noNode = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!builtins.has(args.path) && !args.path.startsWith('node:')) return undefined;
      return { errors: [{ text: `${args.path} is a Node built-in, imported by ${args.importer}: the browser build must not use it` }] };
    });
  },
};

const common = { bundle: true, platform: 'browser', target: 'es2022', plugins: [noNode], logLevel: 'warning', legalComments: 'none' };

await build({ ...common, entryPoints: [resolve(root, 'src/browser.ts')], format: 'esm', outfile: resolve(out, 'uefi-vars.js'), minify: true, sourcemap: true });

const page = await build({ ...common, entryPoints: [resolve(root, 'src/ui/page/main.ts')], format: 'iife', minify: true, write: false });
const script = page.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const html = readFileSync(resolve(root, 'src/ui/page/inspector.html'), 'utf8')
  .replace('/*STYLE*/', () => readFileSync(resolve(root, 'src/ui/page/inspector.css'), 'utf8'))
  .replace('/*SCRIPT*/', () => script);
writeFileSync(resolve(out, 'inspector.html'), html);

const report = (name, bytes) => `${name} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped)`;
console.log(`browser build: ${report('uefi-vars.js', readFileSync(resolve(out, 'uefi-vars.js')))}, ${report('inspector.html', Buffer.from(html))}`);
