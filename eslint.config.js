// Lint, including the layer boundaries of docs/ARCHITECTURE.md:
// protocol → nothing of ours but node-kind types; nodes → protocol types only; engine → nodes and
// protocol, no React/Electron/DOM; hosts (main, server, cli) → engine; renderer → nodes, protocol
// and the EngineClient types, never engine internals or Node built-ins. The rules cover .ts and
// .tsx files, static imports, `export … from`, dynamic `import()` and `require()`.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ui = ['react', 'react-dom', 'react/*', 'react-dom/*', '@xyflow/*', 'zustand', 'zustand/*', 'immer'];
const electron = ['electron', 'electron/*', '@electron-toolkit/*'];
const builtins = ['node:*', ...builtinModules];
const layer = (name) => [`**/${name}`, `**/${name}/**`, `@/${name}/**`];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** An esquery regex matching module specifiers of the given packages (globs) and folder layers. */
function specifierRegex(packages, layers) {
  const pkg = packages.map((p) => (p === 'node:*' ? 'node:' : `${escape(p.replace(/\/\*$/, ''))}(\\/|$)`));
  // A layer as a folder in the path (`../engine/x`): a file named like a layer (`server/main`) is not one.
  const lay = layers.map((l) => `(^|\\/)${l}\\/`);
  // esquery reads the regex between slashes, so slashes inside are escaped.
  return `/^(${pkg.join('|')})|${lay.join('|')}/`;
}

/**
 * Rules forbidding the given packages and folder layers to a group of files, in static imports
 * and re-exports (no-restricted-imports) and in `import()` / `require()` calls (no-restricted-syntax).
 * `typeOnly` layers may be imported with `import type` only.
 */
function forbid(message, packages, layers = [], typeOnly = []) {
  const re = specifierRegex(packages, [...layers, ...typeOnly]);
  return {
    'no-restricted-imports': [
      'error',
      {
        // Exact package names as paths: as a pattern, a built-in like 'inspector' would also match
        // './editor/Inspector'.
        paths: packages.filter((p) => !p.includes('*')).map((name) => ({ name, message })),
        patterns: [
          ...(packages.some((p) => p.includes('*')) ? [{ group: packages.filter((p) => p.includes('*')), message }] : []),
          ...(layers.length ? [{ group: layers.flatMap(layer), message }] : []),
          ...(typeOnly.length ? [{ group: typeOnly.flatMap(layer), message: `${message} (types only: import type)`, allowTypeImports: true }] : []),
        ],
      },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: `ImportExpression[source.value=${re}]`, message },
      { selector: `CallExpression[callee.name='require'][arguments.0.value=${re}]`, message },
    ],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', 'resources/', '**/*.d.ts', 'runs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/nodes/**/*.{ts,tsx}'],
    rules: forbid(
      "src/nodes declares node kinds: zod and the protocol's plain types, nothing else of ours, no Node built-ins.",
      [...ui, ...electron, ...builtins],
      ['engine', 'main', 'preload', 'renderer', 'server', 'cli'],
      ['protocol'],
    ),
  },
  {
    files: ['src/protocol/**/*.{ts,tsx}'],
    rules: forbid(
      'src/protocol is shared by the renderer, preload and hosts: zod and node-kind types only.',
      [...ui, ...electron, ...builtins],
      ['engine', 'main', 'preload', 'renderer', 'server', 'cli'],
    ),
  },
  {
    files: ['src/engine/**/*.{ts,tsx}'],
    rules: {
      ...forbid('src/engine imports no React, Electron, DOM or host code; hosts import the engine.', [...ui, ...electron], ['main', 'preload', 'renderer', 'server', 'cli']),
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'HTMLElement', 'HTMLCanvasElement'],
    },
  },
  {
    files: ['src/cli/**/*.{ts,tsx}', 'src/server/**/*.{ts,tsx}'],
    rules: forbid('hosts are thin layers over the engine; they never import the renderer or UI libraries.', [...ui, ...electron], ['renderer', 'main', 'preload']),
  },
  {
    files: ['src/main/**/*.{ts,tsx}', 'src/preload/**/*.{ts,tsx}'],
    rules: forbid('the Electron host talks to the renderer over IPC only.', ui, ['renderer', 'cli']),
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: forbid(
      'the renderer talks to the engine only through the EngineClient interface; no engine internals, no Node built-ins, no Electron.',
      [...electron, ...builtins, 'onnxruntime-node'],
      ['engine', 'main', 'server', 'cli', 'preload'],
    ),
  },
);
