/** The layer rules in eslint.config.js must actually fire: a wrong import fails lint, not a review. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function messages(file: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: file });
  return (res?.messages ?? []).filter((m) => m.ruleId?.startsWith('no-restricted')).map((m) => m.message);
}

describe('layer boundaries', () => {
  it('forbids React, Electron, DOM globals and host code in src/engine', async () => {
    expect(await messages('src/engine/x.ts', "import React from 'react';\nexport const a = React;")).toHaveLength(1);
    expect(await messages('src/engine/x.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(1);
    expect(await messages('src/engine/x.ts', "import { a } from '../cli/main';\nexport const b = a;")).toHaveLength(1);
    expect(await messages('src/engine/x.ts', 'export const w = window.innerWidth;')).toHaveLength(1);
  });

  it('forbids src/nodes from importing the engine', async () => {
    expect(await messages('src/nodes/x.ts', "import { tensor } from '../engine/tensor/tensor';\nexport const t = tensor;")).toHaveLength(1);
    expect(await messages('src/nodes/x.ts', "import { z } from 'zod';\nexport const s = z.number();")).toHaveLength(0);
  });

  it('forbids the renderer from importing engine internals or Node built-ins', async () => {
    expect(await messages('src/renderer/x.ts', "import { tensor } from '../engine/tensor/tensor';\nexport const t = tensor;")).toHaveLength(1);
    expect(await messages('src/renderer/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;")).toHaveLength(1);
  });

  it('covers .tsx files, dynamic import() and require()', async () => {
    expect(await messages('src/engine/x.tsx', "import React from 'react';\nexport const a = React;")).toHaveLength(1);
    expect(await messages('src/engine/x.ts', "export const a = () => import('react');")).toHaveLength(1);
    expect(await messages('src/engine/x.ts', "export const a = () => import('../cli/main');")).toHaveLength(1);
    expect(await messages('src/nodes/x.ts', "export const fs = require('fs');")).toHaveLength(1);
    expect(await messages('src/cli/x.ts', "export const s = () => import('../server/main');")).toHaveLength(0);
  });

  it('forbids Node built-ins and protocol values in src/nodes, allows protocol types', async () => {
    expect(await messages('src/nodes/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;")).toHaveLength(1);
    expect(await messages('src/nodes/x.ts', "import { join } from 'path';\nexport const j = join;")).toHaveLength(1);
    expect(await messages('src/nodes/x.ts', "import { LIMITS } from '../protocol/limits';\nexport const l = LIMITS;")).toHaveLength(1);
    expect(await messages('src/nodes/x.ts', "import type { WireGraph } from '../protocol/messages';\nexport type G = WireGraph;")).toHaveLength(0);
  });

  it('matches built-ins by exact name: a renderer file named like one (Inspector) is no built-in', async () => {
    expect(await messages('src/renderer/x.tsx', "import { Inspector } from './editor/Inspector';\nexport const i = Inspector;")).toHaveLength(0);
    expect(await messages('src/renderer/x.tsx', "import inspector from 'inspector';\nexport const i = inspector;")).toHaveLength(1);
  });

  it('allows the CLI to import the engine', async () => {
    expect(await messages('src/cli/x.ts', "import { tensor } from '../engine/tensor/tensor';\nexport const t = tensor;")).toHaveLength(0);
  });
});
