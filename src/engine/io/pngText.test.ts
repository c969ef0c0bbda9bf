/** PNG text chunks (src/protocol/pngText.ts): written into the engine's PNGs, read back, checked. */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { PngTextError, RESULT_PNG_KEYS, crc32, readPngText, resultPngText, withPngText } from '../../protocol/pngText';
import type { WireGraph, WireReport } from '../../protocol/messages';
import { tensor } from '../tensor/tensor';
import { decodePng, encodePng } from './image';

const picture = (): Uint8Array =>
  encodePng(
    tensor(
      [1, 1, 4, 3],
      Float32Array.from({ length: 12 }, (_, i) => i / 6 - 1),
    ),
  );

describe('PNG text chunks', () => {
  it('computes PNG CRC-32 (the IEND chunk of every PNG ends in ae 42 60 82)', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('round-trips UTF-8 entries and leaves the pixels as they were', () => {
    const png = picture();
    const entries = { Software: 'Lagrange Studio', 'lagrange.graph': '{"name":"x̂₀ σ_y — ζ"}' };
    const out = withPngText(png, entries);
    expect(readPngText(out)).toEqual(entries);
    expect(decodePng(out).data).toEqual(decodePng(png).data);
    expect(PNG.sync.read(Buffer.from(out)).width).toBe(3); // another decoder agrees the file is sound
  });

  it('refuses a file that is not a PNG or is damaged, saying which', () => {
    expect(() => readPngText(new TextEncoder().encode('just text, named .png'), 'notes.png')).toThrow(/notes\.png is not a PNG file/);
    const bad = withPngText(picture(), { k: 'v' });
    bad[bad.length - 20] = bad.at(-20)! ^ 0xff; // inside IDAT
    expect(() => readPngText(bad, 'r.png')).toThrow(PngTextError);
    expect(() => readPngText(bad.subarray(0, 40), 'cut.png')).toThrow(/cut\.png: truncated PNG/);
    expect(() => withPngText(picture(), { '': 'v' })).toThrow(/keyword/);
  });

  it("carries a result's graph, run settings and metrics under their keys", () => {
    const graph = { format: 'lagrange-graph', version: 1, name: 'ddiff', nodes: [], edges: [], run: { seed: 3 } } as unknown as WireGraph;
    const report = { graph: 'ddiff', seed: 3, iterations: 40, task: 'inpaint-box', metrics: { psnr: [22.5], residual: [0.05] } } as unknown as WireReport;
    const text = readPngText(withPngText(picture(), resultPngText(graph, report)));
    expect(JSON.parse(text[RESULT_PNG_KEYS.graph]!)).toEqual(graph);
    expect(JSON.parse(text[RESULT_PNG_KEYS.run]!)).toEqual({ graph: 'ddiff', seed: 3, iterations: 40, task: 'inpaint-box' });
    expect(JSON.parse(text[RESULT_PNG_KEYS.metrics]!)).toEqual({ psnr: [22.5], residual: [0.05] });
  });
});
