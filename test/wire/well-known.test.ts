import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wellKnownGuid, WELL_KNOWN_NAMES } from '../../src/wire/well-known.js';
import { isoTime, encodeTime, type EfiTime } from '../../src/wire/time.js';

const GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const SECURITY = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';

test('the Secure Boot databases are under EFI_IMAGE_SECURITY_DATABASE, the keys and modes under EFI_GLOBAL_VARIABLE (UEFI 2.10 §3.3, §32.6.1)', () => {
  for (const n of ['db', 'dbx', 'dbt', 'dbr']) assert.equal(wellKnownGuid(n), SECURITY, n);
  for (const n of ['PK', 'KEK', 'SecureBoot', 'SetupMode', 'AuditMode', 'DeployedMode', 'BootOrder', 'BootNext', 'Timeout', 'PlatformLang', 'dbDefault']) {
    assert.equal(wellKnownGuid(n), GLOBAL, n);
  }
  assert.equal(wellKnownGuid('SecureBootEnable'), 'f0a30bc7-af08-4556-99c4-001009c93a44');
  assert.equal(wellKnownGuid('CustomMode'), 'c076ec0c-7028-4399-a072-71ee5c448b9f');
  assert.equal(wellKnownGuid('MokList'), '605dab50-e046-4300-abb6-3dd810dd8b23');
});

test('numbered variables take exactly four upper-case hex digits', () => {
  for (let i = 0; i < 200; i++) {
    const n = Math.floor(Math.random() * 0x10000).toString(16).toUpperCase().padStart(4, '0');
    for (const p of ['Boot', 'Driver', 'Key', 'SysPrep', 'PlatformRecovery']) assert.equal(wellKnownGuid(p + n), GLOBAL, p + n);
    assert.equal(wellKnownGuid('HwErrRec' + n), '414e6bdd-e47b-47cc-b244-bb61020cf516');
  }
  for (const n of ['Boot', 'Boot001', 'Boot00001', 'Boot000a', 'boot0001', 'Boot000G', 'XBoot0001']) assert.equal(wellKnownGuid(n), undefined, n);
});

test('names are case-sensitive and inherited object keys are not variables', () => {
  for (const n of ['pk', 'DB', 'secureboot', 'toString', 'constructor', '__proto__', 'hasOwnProperty', '']) assert.equal(wellKnownGuid(n), undefined, n);
  assert.ok(WELL_KNOWN_NAMES.includes('PK') && WELL_KNOWN_NAMES.length > 40);
});

const t0: EfiTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0 };

test('isoTime: zero time is null; UTC times round-trip through Date; nanoseconds and zones are ISO 8601', () => {
  assert.equal(isoTime(new Uint8Array(16)), null);
  for (let i = 0; i < 200; i++) {
    const ms = Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 60 * 365 * 86400) * 1000;
    const d = new Date(ms);
    const text = isoTime(encodeTime({ ...t0, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() }));
    assert.equal(text, d.toISOString().replace('.000Z', 'Z'));
  }
  const base = { ...t0, year: 2024, month: 3, day: 1, hour: 12, minute: 5, second: 9 };
  assert.equal(isoTime(encodeTime({ ...base, nanosecond: 500_000_000 })), '2024-03-01T12:05:09.5Z');
  assert.equal(isoTime(encodeTime({ ...base, timeZone: 0x07ff })), '2024-03-01T12:05:09', 'unspecified zone: local time');
  assert.equal(isoTime(encodeTime({ ...base, timeZone: 90 })), '2024-03-01T12:05:09+01:30');
  assert.equal(isoTime(encodeTime({ ...base, timeZone: -300 })), '2024-03-01T12:05:09-05:00');
});
