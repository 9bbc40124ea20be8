// Make Jazzer.js's prebuilt libFuzzer addon load on Debian 12 (glibc 2.36, GCC 12).
//
// @jazzer.js/fuzzer 4.0.0 ships fuzzer-linux-x64.node built with glibc 2.38 and GCC 13:
// it imports exactly three symbols this system lacks: __isoc23_strtol and
// __isoc23_strtoul (GLIBC_2.38, libFuzzer's flag parser) and
// std::ios_base_library_init() (GLIBCXX_3.4.32, GCC 13's iostream start-up).
// Older releases fetch their binary from GitHub at install time, which this
// machine cannot reach. So, once per install, this script:
//   1. compiles a tiny shim: the C23 functions as plain strtol/strtoul (the only
//      C23 difference, a "0b" prefix, never occurs in libFuzzer's flags) and
//      ios_base_library_init as GCC 12's static ios_base::Init;
//   2. patches the addon in place: the two missing version needs are marked weak
//      and those symbols become unversioned, so the dynamic loader accepts the file
//      and binds them to the shim, which the fuzz runner puts in LD_PRELOAD.
// Idempotent; a no-op where the addon already loads.
// Usage: node scripts/jazzer-glibc.mjs  -> prints the shim path (or nothing).
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MISSING = { 'GLIBC_2.38': ['__isoc23_strtol', '__isoc23_strtoul'], 'GLIBCXX_3.4.32': ['_ZSt21ios_base_library_initv'] };
const VER_FLG_WEAK = 0x2;
const VER_NDX_GLOBAL = 1;

function addonPath() {
  const req = createRequire(join(root, 'package.json'));
  const pkg = req.resolve('@jazzer.js/fuzzer/package.json');
  return join(dirname(pkg), 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

function loads(file) {
  try {
    execFileSync(process.execPath, ['-e', `process.dlopen({exports:{}}, ${JSON.stringify(file)})`], { stdio: 'pipe' });
    return true;
  } catch (e) {
    if (!Object.keys(MISSING).some((v) => String(e.stderr).includes(`version \`${v}' not found`))) throw new Error(`jazzer addon does not load: ${e.stderr}`);
    return false;
  }
}

function cstr(buf, off) {
  let end = off;
  while (buf[end] !== 0) end++;
  return buf.toString('latin1', off, end);
}

/** Weak-ify the missing version needs and unversion their symbols (ELF64 little-endian). */
function patch(file) {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: not ELF64 LE`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({ type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)), link: b.readUInt32LE(o + 0x28) });
  }
  const dynsym = sections.find((s) => s.type === 11); // SHT_DYNSYM
  const versym = sections.find((s) => s.type === 0x6fffffff); // SHT_GNU_versym
  const verneed = sections.find((s) => s.type === 0x6ffffffe); // SHT_GNU_verneed
  if (!dynsym || !versym || !verneed) throw new Error(`${file}: no dynamic version sections`);
  const dynstr = sections[dynsym.link].offset;
  const indexes = new Map();
  // Elf64_Verneed { vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 }
  for (let vn = verneed.offset; ; ) {
    const cnt = b.readUInt16LE(vn + 2);
    // Elf64_Vernaux { vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32 }
    for (let aux = vn + b.readUInt32LE(vn + 8), k = 0; k < cnt; k++) {
      const version = cstr(b, dynstr + b.readUInt32LE(aux + 8));
      if (version in MISSING) {
        b.writeUInt16LE(b.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
        indexes.set(b.readUInt16LE(aux + 6), version);
      }
      const next = b.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = b.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  if (indexes.size === 0) throw new Error(`${file}: none of the expected version needs`);
  const count = dynsym.size / 24;
  for (let i = 0; i < count; i++) {
    const name = cstr(b, dynstr + b.readUInt32LE(dynsym.offset + i * 24));
    const vs = versym.offset + i * 2;
    const version = indexes.get(b.readUInt16LE(vs) & 0x7fff);
    if (version === undefined) continue;
    if (!MISSING[version].includes(name)) throw new Error(`${file}: unexpected ${version} symbol ${name}`);
    b.writeUInt16LE(VER_NDX_GLOBAL, vs);
  }
  writeFileSync(file, b);
}

function buildShim() {
  const dir = join(root, 'fuzz', '.cache');
  const so = join(dir, 'jazzer-shim.so');
  if (existsSync(so)) return so;
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'jazzer-shim.cc');
  writeFileSync(src, [
    '#include <cstdlib>',
    '#include <ios>',
    'extern "C" long __isoc23_strtol(const char *s, char **e, int b) { return std::strtol(s, e, b); }',
    'extern "C" unsigned long __isoc23_strtoul(const char *s, char **e, int b) { return std::strtoul(s, e, b); }',
    'namespace std { void ios_base_library_init() { static ios_base::Init init; } }',
    '',
  ].join('\n'));
  execFileSync('c++', ['-shared', '-fPIC', '-O2', '-o', so, src], { stdio: 'inherit' });
  return so;
}

const file = addonPath();
const marker = `${file}.patched`;
const patchedBefore = existsSync(marker);
let patched = false;
if (!loads(file)) {
  patch(file);
  writeFileSync(marker, 'weak GLIBC_2.38/GLIBCXX_3.4.32 needs, see scripts/jazzer-glibc.mjs\n');
  patched = true;
  if (!loads(file)) throw new Error(`${file}: still does not load after patching`);
}
// Loading is lazy: a patched addon loads, but needs the shim once it calls them.
if (patchedBefore || patched) process.stdout.write(buildShim());
