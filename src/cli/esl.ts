import { parseGuidOrAlias, type GuidText } from '../wire/guid.js';
import { parseSignatureLists } from '../wire/siglist.js';
import { parseAuth2 } from '../auth/descriptor.js';
import { ZERO_OWNER } from '../auth/esl.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { type CommandSpec, parseCommand, UsageError } from './command.js';
import { payloadFrom } from './sign.js';
import { readInput } from './key-files.js';
import { describeEntries } from './esl-entries.js';
import { Exit, out } from './io.js';

export const eslSpec: CommandSpec = {
  name: 'esl',
  summary: 'build and list EFI_SIGNATURE_LISTs (like cert-to-efi-sig-list, hash-to-efi-sig-list)',
  usage: [
    'esl build OUT (CERT|ESL)... [--sha256 HEX]... [--owner GUID]',
    'esl list FILE [--json]',
  ],
  options: [
    { name: 'owner', short: 'g', type: 'string', value: 'GUID', help: 'signature owner of the entries built (default all zeros, as cert-to-efi-sig-list)' },
    { name: 'sha256', type: 'string', multiple: true, value: 'HEX', help: 'add an EFI_CERT_SHA256 entry with this hash' },
    { name: 'json', type: 'boolean', help: 'list as JSON' },
  ],
  details: `build: one EFI_CERT_X509 list per certificate (PEM or DER), ESL files copied as they are, then
one EFI_CERT_SHA256 list of every --sha256. list: FILE is an ESL or a signed update (.auth);
one line per entry: type, owner, subject (certificates) and hash (SHA-256 of a certificate).`,
};

/** uefi-vars esl build|list */
export async function runEsl(argv: string[]): Promise<number> {
  const p = parseCommand(eslSpec, argv);
  const [verb, file, ...rest] = p.positional;
  if (verb === 'build' && file) {
    let owner: GuidText;
    try { owner = parseGuidOrAlias(p.values.get('owner') ?? ZERO_OWNER); } catch { throw new UsageError(`--owner: not a GUID: ${JSON.stringify(p.values.get('owner'))}`); }
    const hashes = p.lists.get('sha256') ?? [];
    if (!rest.length && !hashes.length) throw new UsageError('esl build: give certificates, ESL files or --sha256 hashes');
    const esl = await payloadFrom(rest, hashes, owner);
    await writeFileAtomic(file, esl, 0o644);
    out(`${file}: ${describeEntries(esl).length} entries, ${esl.length} bytes`);
    return Exit.OK;
  }
  if (verb === 'list' && file && !rest.length) {
    let b = await readInput(file);
    let lists = parseSignatureLists(b);
    if (!lists) {
      const d = parseAuth2(b);
      if (typeof d !== 'string' && parseSignatureLists(d.payload)) { b = d.payload; lists = parseSignatureLists(b); }
    }
    if (!lists) throw new UsageError(`${file}: neither EFI_SIGNATURE_LISTs nor a signed update holding them`);
    const entries = describeEntries(b);
    if (p.flags.has('json')) { out(JSON.stringify({ file, lists: lists.length, entries }, null, 2)); return Exit.OK; }
    out(`${file}: ${lists.length} lists, ${entries.length} entries`);
    for (const e of entries) out(`  ${e.type.padEnd(22)} ${e.owner}  ${e.subject ? `${e.subject}  sha256 ` : ''}${e.hash}`);
    return Exit.OK;
  }
  throw new UsageError('usage: uefi-vars esl build OUT (CERT|ESL)... | esl list FILE');
}
