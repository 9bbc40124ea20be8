import { parseGuidOrAlias, type GuidText } from '../wire/guid.js';
import { fromHex, concatBytes } from '../wire/hex.js';
import { encodeTime, formatTime } from '../wire/time.js';
import { Attr } from '../wire/attributes.js';
import { parseSignatureLists } from '../wire/siglist.js';
import { buildUpdate, efiTimeOf, KEY_DB_ATTRIBUTES } from '../auth/auth2-build.js';
import { buildEsl, ZERO_OWNER } from '../auth/esl.js';
import { certificateSubject } from '../auth/x509.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { type CommandSpec, parseCommand, UsageError } from './command.js';
import { certificateDer, readCertificate, readInput, readPrivateKey } from './key-files.js';
import { Exit, out } from './io.js';

export const signSpec: CommandSpec = {
  name: 'sign',
  summary: 'sign a Secure Boot variable update (EFI_VARIABLE_AUTHENTICATION_2), like efitools sign-efi-sig-list',
  usage: ['sign --key KEY --cert CERT NAME GUID (ESL|CERT)... [--sha256 HEX]... [--append] [--time T] [--owner GUID] --output UPDATE.auth'],
  options: [
    { name: 'key', type: 'string', value: 'KEY', help: 'signer private key (PKCS#8 or RSA PEM, or PKCS#8 DER)' },
    { name: 'cert', type: 'string', value: 'CERT', help: "signer certificate (PEM or DER); embedded in the signature" },
    { name: 'output', short: 'o', type: 'string', value: 'FILE', help: 'where to write the update (SetVariable Data)' },
    { name: 'append', short: 'a', type: 'boolean', help: 'APPEND_WRITE: add to the database instead of replacing it (attributes 0x67)' },
    { name: 'time', short: 't', type: 'string', value: 'T', help: 'timestamp "YYYY-MM-DD HH:MM:SS" or ISO 8601 (UTC; default now)' },
    { name: 'owner', short: 'g', type: 'string', value: 'GUID', help: 'signature owner for certificates and hashes given here (default all zeros)' },
    { name: 'sha256', type: 'string', multiple: true, value: 'HEX', help: 'add a SHA-256 hash entry (e.g. to revoke in dbx)' },
    { name: 'json', type: 'boolean', help: 'describe the update as JSON' },
  ],
  details: `Each input is an ESL file (EFI_SIGNATURE_LISTs, used as they are) or a certificate (one
EFI_CERT_X509 list each). No input: a signed empty value (deletes the variable, e.g. PK).
The signature is a bare detached PKCS#7 SignedData, SHA-256, rsaEncryption, the signer
certificate embedded, no signed attributes. NAME GUID: e.g. db security, KEK global.`,
};

/** `YYYY-MM-DD HH:MM:SS` (sign-efi-sig-list -t) or `YYYY-MM-DDTHH:MM:SS[Z]`, taken as UTC fields. */
export function parseTimeArg(text: string): Uint8Array {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?Z?$/.exec(text.trim());
  if (!m) throw new UsageError(`--time: expected "YYYY-MM-DD HH:MM:SS", got ${JSON.stringify(text)}`);
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > dim || hour > 23 || minute > 59 || second > 59) {
    throw new UsageError(`--time: not a valid date and time: ${JSON.stringify(text)}`);
  }
  return encodeTime({ year, month, day, hour, minute, second, pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0 });
}

/** The new value from ESL and certificate files and hashes, in argument order (hashes last). */
export async function payloadFrom(files: readonly string[], hashes: readonly string[], owner: GuidText): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const b = await readInput(f);
    const der = certificateDer(b);
    if (der) { parts.push(buildEsl([der], [], owner)); continue; }
    const lists = b.length ? parseSignatureLists(b) : undefined;
    if (!lists) throw new UsageError(`${f}: neither an X.509 certificate (PEM/DER) nor EFI_SIGNATURE_LISTs`);
    parts.push(b);
  }
  const hs = hashes.map((h) => {
    let b: Uint8Array;
    try { b = fromHex(h.replace(/[\s:]/g, ''), '--sha256'); } catch (e) { throw new UsageError((e as Error).message); }
    if (b.length !== 32) throw new UsageError(`--sha256: a SHA-256 hash is 32 bytes (64 hex digits), got ${b.length}`);
    return b;
  });
  if (hs.length) parts.push(buildEsl([], hs, owner));
  return concatBytes(parts);
}

/** uefi-vars sign --key KEY --cert CERT NAME GUID (ESL|CERT)... --output UPDATE.auth */
export async function runSign(argv: string[]): Promise<number> {
  const p = parseCommand(signSpec, argv);
  const [name, guidText, ...inputs] = p.positional;
  const keyFile = p.values.get('key'), certFile = p.values.get('cert'), output = p.values.get('output');
  if (!name || !guidText || !keyFile || !certFile || !output) {
    throw new UsageError('usage: uefi-vars sign --key KEY --cert CERT NAME GUID (ESL|CERT)... --output UPDATE.auth');
  }
  let guid: GuidText, owner: GuidText;
  try { guid = parseGuidOrAlias(guidText); } catch { throw new UsageError(`GUID: not a GUID or alias (global, security): ${JSON.stringify(guidText)}`); }
  try { owner = parseGuidOrAlias(p.values.get('owner') ?? ZERO_OWNER); } catch { throw new UsageError(`--owner: not a GUID: ${JSON.stringify(p.values.get('owner'))}`); }
  const time = p.values.has('time') ? parseTimeArg(p.values.get('time')!) : efiTimeOf(new Date());
  const payload = await payloadFrom(inputs, p.lists.get('sha256') ?? [], owner);
  const signerCert = await readCertificate(certFile);
  const signerKey = await readPrivateKey(keyFile);
  const append = p.flags.has('append');
  let update: Uint8Array;
  try {
    update = await buildUpdate({ name, guid, append, time, payload, signerCert, signerKey });
  } catch (e) {
    throw new UsageError(`${keyFile}: cannot sign with this key and certificate (${(e as Error).message})`);
  }
  await writeFileAtomic(output, update, 0o644);
  const attributes = KEY_DB_ATTRIBUTES | (append ? Attr.AP : 0);
  const info = { output, name, guid, attributes, time: formatTime(time), size: update.length, payloadSize: payload.length, signer: certificateSubject(signerCert) ?? '' };
  if (p.flags.has('json')) out(JSON.stringify(info, null, 2));
  else out(`${output}: ${name} ${guid} attributes 0x${attributes.toString(16)}, time ${info.time}, ${update.length} bytes (value ${payload.length}), signed by ${info.signer}`);
  return Exit.OK;
}
