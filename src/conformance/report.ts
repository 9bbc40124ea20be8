/** The three report forms: a terminal table, JSON for machines, JUnit XML for CI. */
import type { CaseResult, ConformanceReport, Outcome } from './runner.js';

const LABEL: Record<Outcome, string> = {
  pass: 'pass', fail: 'FAIL', 'known-difference': 'known QEMU difference', skipped: 'skipped',
  'target-crash': 'TARGET CRASH', 'target-hang': 'TARGET HANG', error: 'SUITE ERROR',
};

export function outcomeLabel(o: Outcome): string { return LABEL[o]; }

/** Fixed-width table: case, spec item, result, detail (cut to the terminal width). */
export function formatTable(r: ConformanceReport, width = 160): string {
  const rows = r.results.map((x) => [x.id, x.item + (x.marker ? ` [${x.marker}]` : ''), LABEL[x.outcome], x.detail] as const);
  const w0 = Math.max(4, ...rows.map((x) => x[0].length));
  const w1 = Math.max(4, ...rows.map((x) => x[1].length));
  const w2 = Math.max(6, ...rows.map((x) => x[2].length));
  const line = (a: string, b: string, c: string, d: string): string => {
    const head = `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padEnd(w2)}  `;
    const room = Math.max(20, width - head.length);
    return (head + (d.length > room ? `${d.slice(0, room - 1)}…` : d)).trimEnd();
  };
  const out = [line('case', 'spec', 'result', 'detail'), line('-'.repeat(w0), '-'.repeat(w1), '-'.repeat(w2), '------')];
  for (const x of rows) out.push(line(...x));
  const c = r.counts;
  out.push('', `${r.target}: ${r.results.length} cases, ${c.pass} passed, ${c.fail} failed, ${c['known-difference']} known QEMU differences, `
    + `${c.skipped} skipped, ${c['target-crash']} target crashes, ${c['target-hang']} target hangs, ${c.error} suite errors `
    + `(${(r.ms / 1000).toFixed(2)} s)`);
  return out.join('\n');
}

export function toJson(r: ConformanceReport): string {
  return JSON.stringify({
    target: r.target, ok: r.ok, ms: Math.round(r.ms), counts: r.counts,
    cases: r.results.map((x: CaseResult) => ({ ...x, ms: Math.round(x.ms * 10) / 10 })),
  }, null, 2);
}

const xml = (s: string): string => s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!)
  // XML 1.0 cannot carry most control characters at all.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?');

/** JUnit XML: one testsuite, one testcase per case; crashes and hangs are errors, known differences pass with a note. */
export function toJUnit(r: ConformanceReport): string {
  const c = r.counts;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="uefi-vars conformance" tests="${r.results.length}" failures="${c.fail}" errors="${c['target-crash'] + c['target-hang'] + c.error}" skipped="${c.skipped}" time="${(r.ms / 1000).toFixed(3)}">`,
    `  <testsuite name="${xml(r.target)}" tests="${r.results.length}" failures="${c.fail}" errors="${c['target-crash'] + c['target-hang'] + c.error}" skipped="${c.skipped}" time="${(r.ms / 1000).toFixed(3)}">`];
  for (const x of r.results) {
    const open = `    <testcase classname="${xml(`conformance.${x.item}`)}" name="${xml(x.id)}" time="${(x.ms / 1000).toFixed(3)}"`;
    const d = xml(x.detail);
    switch (x.outcome) {
      case 'pass': out.push(`${open}/>`); break;
      case 'known-difference': out.push(`${open}>`, `      <system-out>known QEMU difference: ${d}</system-out>`, '    </testcase>'); break;
      case 'skipped': out.push(`${open}>`, `      <skipped message="${d}"/>`, '    </testcase>'); break;
      case 'fail': out.push(`${open}>`, `      <failure message="${d}" type="mismatch"/>`, '    </testcase>'); break;
      default: out.push(`${open}>`, `      <error message="${d}" type="${x.outcome}"/>`, '    </testcase>');
    }
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
