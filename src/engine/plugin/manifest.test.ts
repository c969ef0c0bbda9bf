/** The manifest: each kind of bad `lagrange.plugin.json` refused with a one-line reason naming the key. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from './manifest';

const root = mkdtempSync(join(tmpdir(), 'lagrange-manifest-'));
let n = 0;

/** A plugin folder with `manifest` (an object, or raw text) and the files named. */
function folder(manifest: unknown, files: string[] = ['index.mjs']): string {
  const dir = join(root, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'lagrange.plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  for (const f of files) {
    if (f.endsWith('/')) mkdirSync(join(dir, f));
    else writeFileSync(join(dir, f), 'export default () => {};\n');
  }
  return dir;
}

const good = { name: 'ct', version: '0.1.0', apiVersion: 1, entry: 'index.mjs' };

describe('readManifest', () => {
  it('reads a good manifest, description defaulting to empty', () => {
    expect(readManifest(folder({ ...good, presets: 'presets' }, ['index.mjs', 'presets/']))).toEqual({ ...good, description: '', presets: 'presets' });
  });

  it.each([
    [
      'an unknown key, even with a required one missing',
      { name: 'ct', version: '0.1.0', apiVersion: 1, main: 'index.mjs' },
      "unknown key 'main'; keys: name, version, apiVersion, entry, description, presets",
    ],
    ['another API version', { ...good, apiVersion: 2 }, 'apiVersion 2 is not supported; this engine supports plugin API version 1'],
    ['a missing name', { version: '0.1.0', apiVersion: 1, entry: 'index.mjs' }, 'name: missing; expected string'],
    ['an upper-case name', { ...good, name: 'CT' }, 'name: must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit'],
    ['a version that is not semver', { ...good, version: '1' }, 'version: must be a semantic version such as 0.1.0'],
    ['an entry outside the folder', { ...good, entry: '../index.mjs' }, 'entry: entry must be a path inside the plugin folder'],
    ['an entry that needs a build', { ...good, entry: 'index.ts' }, 'entry: entry must be a .mjs or .js file (plain ESM JavaScript, no build step)'],
    ['a missing presets folder', { ...good, presets: 'presets' }, "presets folder 'presets' does not exist in"],
  ])('refuses %s', (_, manifest, reason) => {
    expect(() => readManifest(folder(manifest))).toThrow(`lagrange.plugin.json: ${reason}`);
  });

  it('refuses a missing entry file and a manifest that is not JSON', () => {
    expect(() => readManifest(folder(good, []))).toThrow(/^lagrange\.plugin\.json: entry 'index\.mjs' does not exist in /);
    expect(() => readManifest(folder('{ name: ct }'))).toThrow(/^lagrange\.plugin\.json: not valid JSON \(/);
  });
});
