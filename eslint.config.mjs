import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SOCKETS = ['net', 'node:net', 'dgram', 'node:dgram', 'tls', 'node:tls', 'http', 'node:http', 'https', 'node:https'];
const TIMERS = ['timers', 'node:timers', 'timers/promises', 'node:timers/promises'];
const NODE_RED = ['node-red', '@node-red/util', '@node-red/runtime', '@node-red/registry'];
/** an import path that reaches into one of these src/ folders from another folder */
const folders = (...names) => ({ regex: `^\\.\\.?/(\\.\\./)*(${names.join('|')})(/|$)`, message: `this layer must not import src/{${names.join(',')}}/ (ARCHITECTURE.md "Layers")` });
const noPaths = (names, why) => names.map((name) => ({ name, message: why }));
const TIMER_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate'].map((name) => ({ name, message: 'wire formats hold no timers: pass times in' }));
const SIM = folders('sim');

function layerRules() {
  const wire = 'src/{rtp,rtcp,jpeg,sdp,rtsp,onvif/wire}/**/*.ts';
  return [
    {
      files: [wire],
      rules: {
        'no-restricted-imports': ['error', {
          paths: [...noPaths(SOCKETS, 'wire formats do no I/O'), ...noPaths(TIMERS, 'wire formats hold no timers'), ...noPaths(NODE_RED, 'wire formats know nothing of Node-RED')],
          patterns: [folders('transport', 'camera', 'nodes', 'sim')],
        }],
        'no-restricted-globals': ['error', ...TIMER_GLOBALS],
      },
    },
    {
      files: ['src/transport/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: noPaths(NODE_RED, 'the transport layer knows nothing of Node-RED'), patterns: [folders('camera', 'nodes', 'sim')] }] },
    },
    {
      files: ['src/camera/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: noPaths(NODE_RED, 'the camera layer knows nothing of Node-RED'), patterns: [folders('nodes', 'sim')] }] },
    },
    {
      // services: one job each, usable without Node-RED (they may use sockets and timers)
      files: ['src/http/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: noPaths(NODE_RED, 'the HTTP layer knows nothing of Node-RED'), patterns: [folders('nodes', 'sim')] }] },
    },
    {
      // the nodes use the camera and service layers, never the sockets below them
      files: ['src/nodes/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: noPaths(SOCKETS, 'Node-RED nodes open no sockets: the camera layer does'), patterns: [folders('transport', 'sim')] }] },
    },
    {
      // the library's entry points load the demo camera (lazily); nothing else does
      files: ['src/*.ts'],
      ignores: ['src/index.ts', 'src/cli.ts'],
      rules: { 'no-restricted-imports': ['error', { patterns: [SIM] }] },
    },
    {
      files: ['src/errors.ts'],
      rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\./', message: 'errors.ts is imported by every layer and imports none' }] }] },
    },
    {
      files: ['src/sim/**/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: noPaths(NODE_RED, 'the demo camera knows nothing of Node-RED'), patterns: [folders('nodes')] }] },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'nodes/**/*.js', 'node_modules/**', '.node-red/**', 'test/e2e/artifacts/**', 'bench/results/**', 'bench/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  // The layers (ARCHITECTURE.md "Layers"), checked: each folder may import only downwards.
  // test/unit/layering.test.ts proves each rule fires on a deliberate bad import.
  ...layerRules(),
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' } },
  },
);
