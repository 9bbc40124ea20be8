import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/*
 * The dependency rule (docs/architecture.md): each folder of src/ may import
 * only the folders listed for it, and the pure core imports no Node built-in,
 * so it runs in a browser. A folder not listed here may import anything.
 */
const LAYERS = {
  wire: [],
  store: ['wire'],
  auth: ['wire', 'store'],
  policy: ['wire', 'store'],
  service: ['wire', 'store', 'auth', 'policy'],
  replay: ['wire', 'store', 'auth', 'policy', 'service'],
  inspect: ['wire', 'store', 'auth', 'policy', 'service'],
  device: ['wire', 'store', 'auth', 'policy', 'service'],
  client: ['wire', 'store', 'auth', 'policy', 'service', 'device'],
  conformance: ['wire', 'store', 'auth', 'policy', 'service', 'device', 'client'],
  persist: ['wire', 'store'],
  daemon: ['wire', 'store', 'auth', 'policy', 'service', 'replay', 'inspect', 'device', 'client', 'persist'],
};
const FOLDERS = [...Object.keys(LAYERS), 'cli'];
/** Folders whose code must run in a browser: no Node built-ins. */
const PURE = ['wire', 'store', 'auth', 'policy', 'service', 'replay', 'inspect', 'device', 'client', 'conformance'];
/** Files inside a pure folder that are the Node side of it (transports that spawn or dial). */
const NODE_SIDE = ['src/client/node/**/*.ts', 'src/conformance/node/**/*.ts'];

const nodeBuiltins = [...builtinModules.filter((m) => !m.startsWith('_')), ...builtinModules.map((m) => `node:${m}`)];

function layerRule(folder) {
  const allowed = new Set([folder, ...LAYERS[folder]]);
  const forbidden = FOLDERS.filter((f) => !allowed.has(f));
  const patterns = forbidden.length ? [{ group: forbidden.map((f) => `**/${f}/**`), message: `src/${folder} may import only ${[...allowed].join(', ')} (docs/architecture.md)` }] : [];
  const paths = PURE.includes(folder) ? nodeBuiltins.map((name) => ({ name, message: `src/${folder} is pure core: no Node built-ins (it must run in a browser)` })) : [];
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/lint/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...Object.keys(LAYERS).map((folder) => ({ files: [`src/${folder}/**/*.ts`], ignores: NODE_SIDE, rules: layerRule(folder) })),
  ...NODE_SIDE.map((glob) => {
    // The Node side may also use the daemon's VMM client and persist; never the CLI.
    const message = `${glob} may not import the CLI (docs/architecture.md)`;
    return { files: [glob], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli/**'], message }] }] } };
  }),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'fuzz/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
