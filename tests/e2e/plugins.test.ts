/**
 * Plugin kinds in the studio (browser mode, Chromium): with the example CT plugin and a plugin the
 * loader refuses on LAGRANGE_PLUGINS, the palette offers ParallelBeamCT (from the engine's
 * catalogue; the page was built without it) and lists the refusal with its reason; the node is
 * added, edited in the inspector from its JSON Schema and saved with `plugin: "ct"`; a file using a
 * kind no plugin provides opens with that node's stored ports and parameters and an on-node error
 * naming the plugin, and saves back unchanged. Screenshots: tests/e2e/artifacts/plugins-*.png.
 */
import { readFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { ARTIFACTS, ROOT, drop, launch, open, savedDoc, select, setParam, shot } from './studio';

const before = process.env.LAGRANGE_PLUGINS;
let studio: Studio;
beforeAll(async () => {
  // The server runs in this process: its engine loads what LAGRANGE_PLUGINS names on the first request.
  process.env.LAGRANGE_PLUGINS = [resolve(ROOT, 'plugins/ct'), resolve(ROOT, 'tests/fixtures/plugins/wrong-adjoint')].join(delimiter);
  studio = await launch();
}, 120_000);
afterAll(async () => {
  await studio?.close();
  if (before === undefined) delete process.env.LAGRANGE_PLUGINS;
  else process.env.LAGRANGE_PLUGINS = before;
});

// A graph using a kind from a plugin this engine does not have, wired to a built-in node.
const foreign = {
  format: 'lagrange-graph',
  version: 1,
  name: 'spectral',
  description: '',
  nodes: [
    { id: 'spectral', kind: 'SpectralCT', plugin: 'spectral', params: { bins: 4, energies: [40, 80] }, position: { x: 40, y: 40 } },
    { id: 'imageinput', kind: 'ImageInput', params: {}, position: { x: 40, y: 240 } },
    { id: 'simulate', kind: 'Simulate', params: {}, position: { x: 320, y: 120 } },
  ],
  edges: [
    { source: 'spectral', sourcePort: 'operator', target: 'simulate', targetPort: 'operator' },
    { source: 'imageinput', sourcePort: 'image', target: 'simulate', targetPort: 'image' },
  ],
  run: { seed: 0 },
  models: {},
  overrides: {},
};

describe('plugin kinds in the studio', () => {
  it('offers, adds and edits a plugin kind, lists a refused plugin, and keeps a node whose plugin is missing', async () => {
    const { page, errors } = await open(studio, { width: 1400, height: 860 });
    page.on('dialog', (d) => void d.accept()); // discarding the example graph's state
    await page.getByTestId('open-gallery').click();
    await page.getByTestId('gallery-empty').click();

    // The palette has the plugin's kind, badged, and the refused plugin with its reason.
    await page.getByTestId('palette-search').fill('ct');
    const entry = page.getByTestId('palette-ParallelBeamCT');
    await entry.waitFor({ timeout: 15_000 });
    expect(await entry.textContent()).toMatch(/Sparse-view CT\s*ct/);
    expect(await page.getByTestId('plugin-wrong-adjoint').textContent()).toMatch(/refused.*fails checkOperator.*adjoint/s);
    await shot(page, 'plugins-palette');
    await page.getByTestId('palette-search').fill('');

    await drop(page, 'ParallelBeamCT', 120, 120);
    await select(page, 'parallelbeamct');
    const inspector = page.getByTestId('inspector');
    expect(await inspector.getByTestId('inspector-plugin').textContent()).toBe('plugin ct 0.1.0');
    expect(await inspector.textContent()).toMatch(/angles.*≥ 1, ≤ 4096/s);
    await setParam(page, 'angles', '0');
    expect(await inspector.textContent()).toContain('must be ≥ 1'); // refused in the field, not stored
    await setParam(page, 'angles', '90');
    await setParam(page, 'span', '120');
    await expect.poll(async () => (await page.getByTestId('node-summary-parallelbeamct').textContent()) ?? '').toContain('angles=90');
    const { doc } = await savedDoc(page);
    expect(doc.nodes).toEqual([expect.objectContaining({ id: 'parallelbeamct', kind: 'ParallelBeamCT', plugin: 'ct', params: { angles: 90, span: 120 } })]);
    await shot(page, 'plugins-ct-node');

    // A file needing a plugin this engine lacks: the node keeps its ports and parameters and says what to install.
    await page.getByTestId('open-gallery').click();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('gallery-import').click()]);
    await chooser.setFiles({ name: 'spectral.lagrange.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(foreign)) });
    const missing = page.getByTestId('node-missing-spectral');
    await missing.waitFor({ timeout: 15_000 });
    expect(await missing.textContent()).toBe("needs plugin 'spectral' (not installed)");
    expect(await page.locator('.react-flow__edge').count()).toBe(2); // drawn on the stored ports
    await select(page, 'spectral');
    expect(await page.getByTestId('inspector-doc').textContent()).toMatch(/comes from plugin 'spectral', which is not installed: add it to ~\/\.lagrange\/plugins/);
    expect(await page.getByTestId('inspector').getByTestId('param-energies').inputValue()).toBe('[40,80]');
    await shot(page, 'plugins-missing-kind');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save').click()]);
    const file = resolve(ARTIFACTS, 'plugins-spectral.lagrange.json');
    await download.saveAs(file);
    expect(JSON.parse(readFileSync(file, 'utf8')).nodes).toEqual(foreign.nodes);
    expect(errors).toEqual([]);
  }, 60_000);
});
