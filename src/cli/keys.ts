import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { generateSelfSigned, toPem } from '../auth/cert-build.js';
import { buildEsl } from '../auth/esl.js';
import { parseGuid } from '../wire/guid.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { type CommandSpec, parseCommand, intValue, UsageError } from './command.js';
import { Exit, out } from './io.js';

export const keysSpec: CommandSpec = {
  name: 'keys',
  summary: 'generate Secure Boot keys: PK, KEK and db RSA-2048 keys with self-signed certificates',
  usage: ['keys generate DIR --cn NAME [--owner GUID] [--days N] [--force] [--json]'],
  options: [
    { name: 'cn', type: 'string', value: 'NAME', help: 'common name prefix: certificates are "NAME PK", "NAME KEK", "NAME db"' },
    { name: 'owner', type: 'string', value: 'GUID', help: 'signature owner GUID of the ESLs (default: a random one, saved in DIR/owner.guid)' },
    { name: 'days', type: 'string', value: 'N', help: 'certificate validity in days (default 3650; firmware ignores it)' },
    { name: 'force', type: 'boolean', help: 'overwrite keys already in DIR' },
    { name: 'json', type: 'boolean', help: 'list the files written as JSON' },
  ],
  details: `Writes, each mode 0600: ROLE.key (PKCS#8 PEM), ROLE.crt (PEM), ROLE.cer (DER) and ROLE.esl
(an EFI_SIGNATURE_LIST holding the certificate) for ROLE in PK, KEK, db, and owner.guid.
Sign a KEK update with PK.key/PK.crt, a db or dbx update with KEK.key/KEK.crt (uefi-vars sign).`,
};

const ROLES = ['PK', 'KEK', 'db'] as const;

/** uefi-vars keys generate DIR --cn NAME */
export async function runKeys(argv: string[]): Promise<number> {
  const p = parseCommand(keysSpec, argv);
  const [verb, dir, ...rest] = p.positional;
  if (verb !== 'generate' || !dir || rest.length) throw new UsageError('usage: uefi-vars keys generate DIR --cn NAME');
  const cn = p.values.get('cn');
  if (!cn) throw new UsageError('--cn NAME is required');
  const days = intValue(p, 'days') ?? 3650;
  if (days < 1 || days > 100 * 366) throw new UsageError('--days is 1..36600');
  let owner: string;
  try { owner = parseGuid(p.values.get('owner') ?? randomUUID()); } catch { throw new UsageError(`--owner: not a GUID: ${JSON.stringify(p.values.get('owner'))}`); }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!p.flags.has('force')) {
    for (const r of ROLES) {
      const f = join(dir, `${r}.key`);
      if (await stat(f).then(() => true, () => false)) throw new UsageError(`${f}: exists already (use --force to replace the keys)`);
    }
  }
  const files: { role: string; key: string; crt: string; cer: string; esl: string; cn: string }[] = [];
  for (const role of ROLES) {
    const g = await generateSelfSigned({ cn: `${cn} ${role}`, days });
    const base = join(dir, role);
    const f = { role, cn: `${cn} ${role}`, key: `${base}.key`, crt: `${base}.crt`, cer: `${base}.cer`, esl: `${base}.esl` };
    await writeFileAtomic(f.key, new TextEncoder().encode(toPem(g.key, 'PRIVATE KEY')), 0o600);
    await writeFileAtomic(f.crt, new TextEncoder().encode(toPem(g.cert, 'CERTIFICATE')), 0o600);
    await writeFileAtomic(f.cer, g.cert, 0o600);
    await writeFileAtomic(f.esl, buildEsl([g.cert], [], owner), 0o600);
    files.push(f);
  }
  await writeFileAtomic(join(dir, 'owner.guid'), new TextEncoder().encode(owner + '\n'), 0o600);
  if (p.flags.has('json')) {
    out(JSON.stringify({ dir, owner, keys: files }, null, 2));
  } else {
    for (const f of files) out(`${f.role.padEnd(4)} "${f.cn}": ${f.key} ${f.crt} ${f.cer} ${f.esl}`);
    out(`owner GUID ${owner} (${join(dir, 'owner.guid')})`);
  }
  return Exit.OK;
}
