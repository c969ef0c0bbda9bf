#!/usr/bin/env node
// `npx lagrange`: the built CLI when it is current, else the TypeScript sources (bin/engine.mjs).
import { loadEngine } from './engine.mjs';

// Output piped into a reader that stops early (`| head`) ends the command quietly.
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});
const { main } = await loadEngine('cli', 'src/cli/main.ts');
process.exitCode = await main(process.argv);
