/** The conformance suite as a library (docs/conformance.md). */
export { runConformance, selectCases, type ConformanceReport, type CaseResult, type Outcome, type RunOptions } from './runner.js';
export { ALL_CASES } from './cases/index.js';
export { CaseContext, CaseFailure, CaseSkipped, type ConformanceCase, type Need } from './case.js';
export { formatTable, toJUnit, toJson } from './report.js';
