import type { ConformanceCase } from '../case.js';
import { deviceCases } from './device.js';
import { variableCases } from './variables.js';
import { authCases } from './auth.js';
import { policyCases } from './policy.js';
import { storeCases } from './store.js';

/** Every case, in spec order. */
export const ALL_CASES: readonly ConformanceCase[] = [...deviceCases, ...variableCases, ...authCases, ...policyCases, ...storeCases];
