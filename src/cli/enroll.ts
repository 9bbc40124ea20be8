import { assertTargetFree, parseStoreTarget, readTarget, requireFile, writeTarget, type FileLikeTarget, type TargetStore } from './store-target.js';
import { edk2Codec } from '../persist/edk2-fd.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { DEFAULT_FORMAT, FORMAT_CHOICES, FORMAT_LIST, formatFromExtension, formatNamed, isStoreFormat, type StoreFormat } from '../persist/formats.js';
import { parseCommand, UsageError, type CommandSpec, type ParsedArgs } from './command.js';
import { parseGuidArg } from './set.js';
import { Exit, err, out } from './io.js';
import { applyEnroll, type EnrollSteps, type OwnedDer } from './enroll-apply.js';
import {
  bundledCert, distroCerts, distroListText, microsoftDb, microsoftKek, DISTROS,
  MICROSOFT_DB_CHOICES, MICROSOFT_KEK_CHOICES, type MicrosoftDb, type MicrosoftKek, type OwnedCert,
} from './enroll-certs.js';
import { generatePlatformKey, toPem } from './enroll-generate.js';
import { readDbxFile, readCertFile } from './enroll-inputs.js';
import { describeChanges, printChanges } from './enroll-report.js';
import { CliAudit, appendToTrail, diffRecords, storeVmName } from './audit-append.js';
import { Owners } from '../auth/esl-build.js';
import { fromHex } from '../wire/hex.js';
import { nameKey } from '../wire/ucs2.js';
import type { Variable } from '../store/variable.js';

const S = 'store and output';
const V = 'variables (virt-fw-vars)';
const B = 'boot entries (virt-fw-vars)';
const K = 'Secure Boot keys (virt-fw-vars)';
const Q = 'Secure Boot shortcuts (virt-fw-vars)';
const X = 'beyond virt-fw-vars';

export const enrollSpec: CommandSpec = {
  name: 'enroll',
  summary: 'set PK/KEK/db/dbx (and a few other variables) in one step, as virt-fw-vars does',
  usage: [
    `enroll STORE [options] [--output OUT [--to ${FORMAT_CHOICES}]] [--dry-run [--json]]`,
    'enroll --input IN --output OUT [options]      (virt-fw-vars spelling; also --inplace FILE)',
    'enroll --distro-list',
  ],
  options: [
    { name: 'input', short: 'i', type: 'string', value: 'FILE', help: 'read FILE and write only to --output/--output-json (virt-fw-vars -i)', group: S },
    { name: 'inplace', type: 'string', value: 'FILE', help: 'edit FILE in place (same as giving STORE)', group: S },
    { name: 'in-place', type: 'string', value: 'FILE', help: 'alias of --inplace', group: S },
    { name: 'output', short: 'o', type: 'string', value: 'OUT', help: 'write the result to OUT instead of in place; format from --to, else OUT\'s extension, else the input\'s', group: S },
    { name: 'output-json', type: 'string', value: 'OUT', help: 'also write the result as QEMU/virt-firmware JSON to OUT', group: S },
    { name: 'to', type: 'string', value: FORMAT_CHOICES, help: 'format of --output', group: S },
    { name: 'dry-run', type: 'boolean', help: 'print what would change; write nothing', group: S },
    { name: 'json', type: 'boolean', help: 'print the change report as JSON', group: S },
    { name: 'loglevel', short: 'l', type: 'string', value: 'LEVEL', help: 'accepted for virt-fw-vars scripts; ignored', group: S },
    { name: 'delete', short: 'd', type: 'string', multiple: true, value: 'VAR', help: 'delete variable VAR (by name)', group: V },
    { name: 'set-true', type: 'string', multiple: true, value: 'VAR', help: 'set VAR to the 1-byte value 1 (created with its default GUID/attributes if missing)', group: V },
    { name: 'set-false', type: 'string', multiple: true, value: 'VAR', help: 'set VAR to the 1-byte value 0', group: V },
    { name: 'set-boot-uri', type: 'string', value: 'URI', help: 'Boot0099 "netboot NAME" with a URI() device path, and BootNext=0x0099', group: B },
    { name: 'append-boot-filepath', type: 'string', multiple: true, value: 'PATH', help: 'next free Boot#### "file NAME" with a FilePath() device path ("PATH OPTDATA": optional data), appended to BootOrder', group: B },
    { name: 'set-pk', type: 'string', arity: 2, value: 'GUID CERT', help: 'PK = this certificate (PEM or DER) with owner GUID', group: K },
    { name: 'add-kek', type: 'string', arity: 2, value: 'GUID CERT', help: 'add a certificate to KEK (repeatable)', group: K },
    { name: 'add-db', type: 'string', arity: 2, value: 'GUID CERT', help: 'add a certificate to db (repeatable)', group: K },
    { name: 'add-db-hash', type: 'string', arity: 2, value: 'GUID SHA256', help: 'add a SHA-256 hash (64 hex digits) to db (repeatable)', group: K },
    { name: 'set-dbx', type: 'string', value: 'FILE', help: 'dbx = a signed dbx update (its payload and time) or a bare EFI_SIGNATURE_LIST', group: K },
    { name: 'enroll-redhat', type: 'boolean', help: 'PK and KEK = Red Hat Secure Boot (PK/KEK key 1), plus Microsoft KEK and db', group: Q },
    { name: 'enroll-cert', type: 'string', value: 'CERT', help: 'PK and KEK = CERT, plus Microsoft KEK and db', group: Q },
    { name: 'enroll-generate', type: 'string', value: 'CN', help: 'PK and KEK = a new self-signed RSA-2048 certificate with this CN, plus Microsoft KEK and db', group: Q },
    { name: 'no-microsoft', type: 'boolean', help: 'with --enroll-*: no Microsoft certificates in db', group: Q },
    { name: 'microsoft-kek', type: 'string', value: 'none|2011|2023|all', help: 'with --enroll-*: Microsoft KEK CAs to add (default all)', group: Q },
    { name: 'distro-keys', type: 'string', multiple: true, value: 'NAME', help: 'add the named group of CA certificates to db (see --distro-list)', group: Q },
    { name: 'distro-list', type: 'boolean', help: 'list the --distro-keys names and exit', group: Q },
    { name: 'secure-boot', type: 'boolean', help: 'dbx placeholder if there is no dbx, SecureBootEnable=1, CustomMode=0', group: Q },
    { name: 'sb', type: 'boolean', help: 'alias of --secure-boot', group: Q },
    { name: 'microsoft-db', type: 'string', value: 'none|2011|2023|all', help: 'with --enroll-*: the Microsoft db CAs; 2023 and all include the Option ROM UEFI CA 2023 (default: virt-fw-vars\' four)', group: X },
    { name: 'external-management', type: 'boolean', help: 'PK = one EFI_CERT_EXTERNAL_MANAGEMENT entry (keys managed by the host), after the other PK options', group: X },
    { name: 'generated-key', type: 'string', value: 'FILE', help: 'with --enroll-generate: keep the private key and certificate in FILE (PEM; virt-fw-vars discards them)', group: X },
  ],
  details: 'Options apply in virt-fw-vars 24.4\'s order, whatever their order on the command line: delete, set-true, set-false,\n'
    + 'boot URI, boot file paths, --enroll-redhat, --enroll-cert, --enroll-generate, distro keys, set-pk, external management,\n'
    + 'add-kek, add-db, set-dbx, add-db-hash, secure-boot. Writes are host-side (no signatures) and atomic; a store that does not\n'
    + 'fully parse is never written. Exit 0 success, 1 usage or I/O error. See docs/cli.md.',
};

const ENROLL_FILES_ONLY = 'enroll reads and writes store files; write a PostgreSQL VM through the management API of the daemon serving it';

function owned(c: OwnedCert): OwnedDer { return { owner: c.owner, der: bundledCert(c.cert) }; }

function oneOf<T extends string>(p: ParsedArgs, key: string, choices: readonly T[]): T | undefined {
  const v = p.values.get(key);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${key} is ${choices.join(', ')}; got ${JSON.stringify(v)}`);
  return v as T;
}

async function certPair(opt: string, [g, f]: [string, string]): Promise<OwnedDer> {
  let owner: string;
  try { owner = parseGuidArg(g); } catch { throw new UsageError(`--${opt}: GUID: not a GUID: ${JSON.stringify(g)}`); }
  return { owner, der: await readCertFile(f) };
}

/** uefi-vars enroll: see enrollSpec. */
export async function runEnroll(argv: string[]): Promise<number> {
  const p = parseCommand(enrollSpec, argv);
  if (p.flags.has('distro-list')) { out(distroListText()); return Exit.OK; }
  const source = sourceOf(p);
  const steps = await buildSteps(p);
  // A store that does not fully parse stops here: nothing is ever written over it.
  const from = source === undefined ? undefined : requireFile(parseStoreTarget(source), ENROLL_FILES_ONLY);
  const read: Omit<TargetStore, 'target'> = from ? await readTarget(from) : { format: DEFAULT_FORMAT, variables: [], readOnly: false };
  const loaded = { path: from?.path ?? '(empty store)', ...read };
  // efivarfs is never written in place (refused below); an --output takes the format its name says.
  const { inPlace, targets } = targetsOf(p, source, isStoreFormat(loaded.format) ? loaded.format : DEFAULT_FORMAT);
  if (inPlace && loaded.readOnly) throw new UsageError(`${source}: an efivarfs directory is read-only; give --output`);
  const result = applyEnroll(loaded.variables, steps.steps);
  for (const w of result.warnings) err(`uefi-vars enroll: warning: ${w}`);
  const changes = describeChanges(loaded.variables, result.vars);
  const dryRun = p.flags.has('dry-run');
  const written: string[] = [];
  if (!dryRun) {
    // A daemon serving one of these files would overwrite the result with its next save.
    for (const t of targets) await assertTargetFree(t.target);
    if (steps.generated && steps.keyFile) {
      const pem = toPem(steps.generated.keyPkcs8, 'PRIVATE KEY') + toPem(steps.generated.cert, 'CERTIFICATE');
      try { await writeFileAtomic(steps.keyFile, new TextEncoder().encode(pem)); } catch (e) {
        throw new UsageError(`${steps.keyFile}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    for (const t of targets) {
      const sameFormat = t.format === loaded.format;
      const gzip = sameFormat && t.target.path === source && (loaded.gzip ?? false);
      await writeTarget(t.target, t.format, t.format === edk2Codec.name ? flashOrder(result.vars) : result.vars, sameFormat ? loaded.layout : undefined, { gzip });
      written.push(t.target.path);
      // Host records of the Secure Boot variables this store now holds differently (docs/audit.md).
      const audit = new CliAudit('enroll').add(await diffRecords(loaded.variables, result.vars));
      await appendToTrail(t.target.path, await audit.entries(undefined, storeVmName(t.target.path), true));
    }
  }
  printChanges({ source: loaded.path, written, dryRun, variables: result.vars.length, changes, warnings: result.warnings, json: p.flags.has('json') });
  return Exit.OK;
}

interface Target { target: FileLikeTarget; format: StoreFormat }

/** virt-fw-vars writes an edk2 image's variables sorted by name (varstore/edk2.py), so the same image comes out. */
function flashOrder(vars: readonly Variable[]): Variable[] {
  const key = (v: Variable): string => nameKey(v.name);
  return [...vars].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function sourceOf(p: ParsedArgs): string | undefined {
  const [positional, ...extra] = p.positional;
  if (extra.length) throw new UsageError(`one STORE, got ${p.positional.length} (${p.positional.join(' ')})`);
  const inplace = p.values.get('inplace') ?? p.values.get('in-place');
  const given = [positional, p.values.get('input'), inplace].filter((x) => x !== undefined);
  if (given.length > 1) throw new UsageError('give the store once: STORE, --input FILE or --inplace FILE');
  const source = given[0];
  const writes = p.values.has('output') || p.values.has('output-json');
  if (!source && !writes) throw new UsageError('usage: uefi-vars enroll STORE [options] (or --input IN --output OUT); see --help');
  if (p.values.has('input') && !writes) throw new UsageError('--input only reads; give --output OUT or --output-json OUT (or edit in place: STORE or --inplace)');
  const to = p.values.get('to');
  if (to !== undefined && !formatNamed(to)) throw new UsageError(`--to is ${FORMAT_LIST}, got ${JSON.stringify(to)}`);
  if (to !== undefined && !p.values.has('output')) throw new UsageError('--to is the format of --output; give --output OUT');
  return source;
}

/** Where the result goes: --output (format from --to, its extension, else the input's) and --output-json; else in place. */
function targetsOf(p: ParsedArgs, source: string | undefined, srcFormat: StoreFormat): { inPlace: boolean; targets: Target[] } {
  const targets: Target[] = [];
  const outPath = p.values.get('output');
  if (outPath !== undefined) {
    const to = p.values.get('to');
    targets.push({ target: requireFile(parseStoreTarget(outPath), ENROLL_FILES_ONLY), format: (to !== undefined ? formatNamed(to) : undefined) ?? formatFromExtension(outPath) ?? srcFormat });
  }
  const jsonPath = p.values.get('output-json');
  if (jsonPath !== undefined) targets.push({ target: requireFile(parseStoreTarget(jsonPath), ENROLL_FILES_ONLY), format: DEFAULT_FORMAT });
  if (targets.length) return { inPlace: false, targets };
  return { inPlace: true, targets: [{ target: requireFile(parseStoreTarget(source!), ENROLL_FILES_ONLY), format: srcFormat }] };
}

async function buildSteps(p: ParsedArgs): Promise<{ steps: EnrollSteps; generated?: { cert: Uint8Array; keyPkcs8: Uint8Array }; keyFile?: string }> {
  const now = (): Date => new Date();
  const kek = oneOf<MicrosoftKek>(p, 'microsoft-kek', MICROSOFT_KEK_CHOICES) ?? 'all';
  const dbChoice = oneOf<MicrosoftDb>(p, 'microsoft-db', MICROSOFT_DB_CHOICES);
  if (dbChoice !== undefined && p.flags.has('no-microsoft') && dbChoice !== 'none') throw new UsageError('--no-microsoft and --microsoft-db contradict each other');
  const db: MicrosoftDb = p.flags.has('no-microsoft') ? 'none' : dbChoice ?? 'virt-fw-vars';
  const extras = { kek: microsoftKek(kek).map(owned), db: microsoftDb(db).map(owned) };
  const platforms: EnrollSteps['platforms'] = [];
  if (p.flags.has('enroll-redhat')) platforms.push({ cert: bundledCert('redhatPkKek'), ...extras });
  const enrollCert = p.values.get('enroll-cert');
  if (enrollCert !== undefined) platforms.push({ cert: await readCertFile(enrollCert), ...extras });
  const cn = p.values.get('enroll-generate');
  const keyFile = p.values.get('generated-key');
  if (keyFile !== undefined && cn === undefined) throw new UsageError('--generated-key goes with --enroll-generate CN');
  let generated: { cert: Uint8Array; keyPkcs8: Uint8Array } | undefined;
  if (cn !== undefined) {
    generated = await generatePlatformKey(cn, now());
    platforms.push({ cert: generated.cert, ...extras });
  }
  const distroDb: OwnedDer[] = [];
  for (const name of p.lists.get('distro-keys') ?? []) {
    const certs = distroCerts(name);
    if (!certs) throw new UsageError(`--distro-keys: unknown distro ${JSON.stringify(name)} (known: ${DISTROS.map((d) => d.name).join(', ')})`);
    distroDb.push(...certs.map(owned));
  }
  const pairs = (k: string): Array<[string, string]> => p.pairs.get(k) ?? [];
  const setPk = pairs('set-pk').at(-1);
  const hashes = pairs('add-db-hash').map(([g, h]) => {
    let owner: string;
    try { owner = parseGuidArg(g); } catch { throw new UsageError(`--add-db-hash: GUID: not a GUID: ${JSON.stringify(g)}`); }
    if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new UsageError(`--add-db-hash: SHA256 must be 64 hex digits, got ${JSON.stringify(h)}`);
    return { owner, hash: fromHex(h) };
  });
  const dbxFile = p.values.get('set-dbx');
  const steps: EnrollSteps = {
    delete: p.lists.get('delete') ?? [],
    setTrue: p.lists.get('set-true') ?? [],
    setFalse: p.lists.get('set-false') ?? [],
    ...(p.values.has('set-boot-uri') ? { bootUri: p.values.get('set-boot-uri')! } : {}),
    bootFilepaths: p.lists.get('append-boot-filepath') ?? [],
    platforms,
    distroDb,
    ...(setPk ? { setPk: await certPair('set-pk', setPk) } : {}),
    ...(p.flags.has('external-management') ? { externalManagement: Owners.ovmfEnrollDefaultKeys } : {}),
    addKek: await Promise.all(pairs('add-kek').map((x) => certPair('add-kek', x))),
    addDb: await Promise.all(pairs('add-db').map((x) => certPair('add-db', x))),
    ...(dbxFile !== undefined ? { setDbx: await readDbxFile(dbxFile) } : {}),
    addDbHash: hashes,
    secureBoot: p.flags.has('secure-boot') || p.flags.has('sb'),
    now,
  };
  return { steps, ...(generated ? { generated } : {}), ...(keyFile !== undefined ? { keyFile } : {}) };
}
