import { FORMAT_NAMES } from '../persist/formats.js';
import { efivarfsFormat } from '../persist/efivarfs.js';
/**
 * The `--json` output of each command, as JSON Schema (draft 2020-12 subset:
 * type, enum, const, properties, required, additionalProperties, items,
 * anyOf). One source: docs/cli.md shows these (scripts/gen-cli-docs), the
 * tests validate every command's output against them with validateJson().
 */
export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';

export interface JsonSchema {
  type?: JsonType | JsonType[];
  description?: string;
  enum?: ReadonlyArray<string | number | boolean | null>;
  const?: string | number | boolean | null;
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: false;
  items?: JsonSchema;
  anyOf?: readonly JsonSchema[];
}

const str = (description: string): JsonSchema => ({ type: 'string', description });
const int = (description: string): JsonSchema => ({ type: 'integer', description });
const obj = (properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema => ({
  type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), additionalProperties: false,
});

const variableId = {
  store: str('the STORE argument (a PostgreSQL URL without its password)'),
  name: str('variable name'),
  guid: str('vendor GUID, lower-case text form'),
};

const writeReport = (command: 'set' | 'delete'): JsonSchema => obj({
  command: { const: command },
  status: str('the EFI status name, as the first line without --json'),
  ...variableId,
  format: { enum: [...FORMAT_NAMES], description: 'the store format (kept on write)' },
  attributes: int('the Attributes of the SetVariable call'),
  attributesText: str('the same as names, NV|BS|RT|...'),
  size: int('DataSize of the call (for an authenticated write: descriptor included)'),
  existed: { type: 'boolean', description: 'the variable was there before the call' },
  written: { type: 'boolean', description: 'the store file was rewritten (only on EFI_SUCCESS)' },
  reason: { type: ['string', 'null'], description: 'the named reason of a refusal (docs/deviations.md), null on success' },
});

export const JSON_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  get: {
    anyOf: [
      obj({
        ...variableId, found: { const: true },
        attributes: int('stored attributes'), attributesText: str('the same as names, NV|BS|RT|...'),
        size: int('data size in bytes'),
        time: { type: ['string', 'null'], description: 'the EFI_TIME of a time-based authenticated variable, ISO 8601; null when zero' },
        dataHex: str('the data as hex (not with --out)'),
        out: str('where the data went (with --out; "-" means stdout, and the report goes to stderr)'),
      }, ['dataHex', 'out']),
      obj({ ...variableId, found: { const: false } }),
    ],
  },
  set: writeReport('set'),
  delete: writeReport('delete'),
  convert: obj({
    input: str('IN as given'),
    output: str('OUT as given (a PostgreSQL URL without its password)'),
    from: { enum: [...FORMAT_NAMES, efivarfsFormat.name, 'postgres'], description: 'the format read' },
    to: { enum: [...FORMAT_NAMES, 'postgres'], description: 'the format written' },
    variables: int('variables written'),
    layout: {
      enum: ['input', 'template', 'ovmf-4m', null],
      description: 'edk2 OUT: whose layout it has (IN\'s, --template\'s, or the standard OVMF 4 MiB one); null otherwise',
    },
  }),
  replay: obj({
    trace: str('TRACE as given'),
    requests: int('requests replayed'),
    mismatches: int('replies that differ, documented deviations excluded'),
    followingDeviation: int('of the mismatches, those after a state-changing documented deviation'),
    unexplained: int('mismatches no documented deviation explains'),
    deviations: int('replies that differ as docs/deviations.md documents'),
    differences: {
      type: 'array', description: 'one per difference (empty with --quiet)',
      items: obj({
        index: int('request number in the trace, from 0'),
        function: str('SMM variable function name'),
        variable: str('the variable concerned, NAME GUID, or "-"'),
        what: str('what differs'),
        deviation: { type: 'boolean', description: 'a documented deviation' },
        reason: { type: ['string', 'null'], description: 'the named reason, if any' },
        deviationId: { type: ['string', 'null'], description: 'the documented deviation that decided this reply, if any' },
        follows: { type: ['integer', 'null'], description: 'a mismatch after the deviation at this request number, if any' },
      }),
    },
  }),
  audit: obj({
    vm: str('the VM: its id in the daemon (default for --store), or the store file\'s name without extension for CLI writes'),
    time: str('when the service decided, ISO 8601 UTC'),
    variable: { enum: ['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr', 'SecureBootEnable', 'CustomMode'], description: 'the variable changed (or not)' },
    guid: str('its vendor GUID'),
    source: { enum: ['guest', 'host'], description: 'a guest request through the daemon, or the host (API, CLI)' },
    via: { enum: ['guest', 'api', 'set', 'delete', 'enroll', 'apply'], description: 'what made the change: the data socket, the management API, or a CLI command' },
    operation: { enum: ['write', 'append', 'delete'], description: 'what the call asked' },
    applied: { type: 'boolean', description: 'the store holds the change' },
    oldSha256: { type: ['string', 'null'], description: 'SHA-256 of the value before (null: no variable)' },
    newSha256: { type: ['string', 'null'], description: 'SHA-256 of the value after (equal to oldSha256 when not applied)' },
    payloadSha256: { type: ['string', 'null'], description: 'SHA-256 of the value the call carried, after its authentication descriptor; null for a delete' },
    signer: {
      anyOf: [
        obj({ subject: str('the PKCS#7 signer\'s subject'), serial: str('its serial number, hex (signed)') }),
        { enum: ['setup mode', 'custom mode', 'host', 'unsigned'], description: 'why no signature was needed, or that none came' },
      ],
    },
    status: str('the EFI status name answered'),
    reason: { type: ['string', 'null'], description: 'the named reason of a refusal (docs/deviations.md), store-not-written, persist-failed; null on success' },
    modeBefore: { enum: ['setup', 'user', 'audit', 'deployed'], description: 'platform mode before the call' },
    modeAfter: { enum: ['setup', 'user', 'audit', 'deployed'], description: 'platform mode after it' },
  }),
  serve: obj({
    listening: { const: true },
    pid: int('the daemon\'s pid'),
    socket: { type: ['string', 'null'], description: 'the data socket path; null when socket-activated' },
    api: { type: ['string', 'null'], description: 'the API socket path, if any' },
    apiPort: { type: ['integer', 'null'], description: 'the loopback TCP port of the API, if any (the real one for --api-port 0)' },
    activated: obj({ data: { type: 'boolean' }, api: { type: 'boolean' } }),
    layout: { enum: ['single', 'dir', 'postgres', 'memory'], description: '--store, --state-dir, --postgres or --memory' },
  }),
};

/** Problems of `value` against `schema` ("$.a.b: expected integer"); empty when it conforms. */
export function validateJson(schema: JsonSchema, value: unknown, path = '$'): string[] {
  if (schema.anyOf) {
    const all = schema.anyOf.map((s) => validateJson(s, value, path));
    return all.some((p) => p.length === 0) ? [] : [`${path}: matches none of ${schema.anyOf.length} forms (${all.map((p) => p[0]).join('; ')})`];
  }
  if ('const' in schema && value !== schema.const) return [`${path}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`];
  if (schema.enum && !schema.enum.includes(value as string)) return [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => isType(t, value))) return [`${path}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`];
  }
  const problems: string[] = [];
  if (schema.properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in o)) problems.push(`${path}.${k}: missing`);
    for (const [k, v] of Object.entries(o)) {
      const s = schema.properties[k];
      if (!s) { if (schema.additionalProperties === false) problems.push(`${path}.${k}: not in the schema`); continue; }
      problems.push(...validateJson(s, v, `${path}.${k}`));
    }
  }
  if (schema.items && Array.isArray(value)) value.forEach((v, i) => problems.push(...validateJson(schema.items!, v, `${path}[${i}]`)));
  return problems;
}

function isType(t: JsonType, v: unknown): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array': return Array.isArray(v);
  }
}
