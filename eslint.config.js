// Lint, including the layer boundaries of docs/ARCHITECTURE.md:
// nodes → nothing of ours; engine → nodes only, no React/Electron/DOM; hosts (main, server, cli)
// → engine; renderer → nodes + the EngineClient types, never engine internals or Node built-ins.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ui = ['react', 'react-dom', 'react/*', 'react-dom/*', '@xyflow/*', 'zustand', 'zustand/*', 'immer'];
const electron = ['electron', 'electron/*', '@electron-toolkit/*'];
const layer = (name) => [`**/${name}`, `**/${name}/**`, `@/${name}/**`];

/** A no-restricted-imports rule forbidding the given package names and folder layers. */
function forbid(message, packages, layers = []) {
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(packages.length ? [{ group: packages, message }] : []),
          ...(layers.length ? [{ group: layers.flatMap(layer), message }] : []),
        ],
      },
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
    files: ['src/nodes/**/*.ts'],
    rules: forbid('src/nodes declares node kinds and imports nothing else of ours (only zod).', [...ui, ...electron], [
      'engine', 'main', 'preload', 'renderer', 'server', 'cli',
    ]),
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: forbid('src/protocol is shared by the renderer, preload and hosts: zod and node-kind types only.', [...ui, ...electron, 'node:*'], [
      'engine', 'main', 'preload', 'renderer', 'server', 'cli',
    ]),
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      ...forbid('src/engine imports no React, Electron, DOM or host code; hosts import the engine.', [...ui, ...electron], [
        'main', 'preload', 'renderer', 'server', 'cli',
      ]),
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'HTMLElement', 'HTMLCanvasElement'],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/server/**/*.ts'],
    rules: forbid('hosts are thin layers over the engine; they never import the renderer or UI libraries.', [...ui, ...electron], [
      'renderer', 'main', 'preload',
    ]),
  },
  {
    files: ['src/main/**/*.ts', 'src/preload/**/*.ts'],
    rules: forbid('the Electron host talks to the renderer over IPC only.', ui, ['renderer', 'cli']),
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: forbid('the renderer talks to the engine only through the EngineClient interface; no engine internals, no Node built-ins, no Electron.', [
      ...electron, 'node:*', 'fs', 'path', 'child_process', 'onnxruntime-node',
    ], ['engine', 'main', 'server', 'cli', 'preload']),
  },
);
