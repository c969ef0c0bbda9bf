/**
 * Text chunks in PNG files, so a result picture carries the graph that made it: the studio's
 * export and `lagrange run`'s result.png write them, and the studio reads them back when such a
 * PNG is dropped on the canvas. Here, not in the engine, because both the renderer (which may not
 * import engine code) and the CLI need it; it is plain byte work with no imports.
 *
 * Written by hand rather than with pngjs: pngjs is Node-only (streams, zlib) and writes no text
 * chunks; a text chunk is length, type, data and a CRC-32 over type and data, a few lines.
 * Entries are written as uncompressed iTXt (UTF-8: graphs hold names like x̂₀ and σ that tEXt's
 * Latin-1 cannot), keyword only Latin-1 (1–79 characters) as the format requires.
 */
import type { WireGraph, WireReport } from './messages';

/** The keywords of a result PNG's chunks. */
export const RESULT_PNG_KEYS = {
  /** The graph document as it ran (`*.lagrange.json`). */
  graph: 'lagrange.graph',
  /** The run's settings and trace: its report without the metrics. */
  run: 'lagrange.run',
  /** The report's metrics (PSNR, SSIM, residual… per sample). */
  metrics: 'lagrange.metrics',
} as const;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A file that is not a PNG or whose chunks are broken; the message says where. */
export class PngTextError extends Error {
  override name = 'PngTextError';
}

let table: Uint32Array | undefined;
/** CRC-32 (ISO 3309, as PNG uses it) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** True when `bytes` start with the PNG signature. */
export const isPng = (bytes: Uint8Array): boolean => bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);

interface Chunk {
  type: string;
  /** Offset of the chunk's length field. */
  at: number;
  data: Uint8Array;
}

/** The file's chunks, checked: signature, lengths within the file, CRCs. */
function chunks(png: Uint8Array, source: string): Chunk[] {
  if (!isPng(png)) throw new PngTextError(`${source} is not a PNG file (no PNG signature)`);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length;) {
    if (at + 12 > png.length) throw new PngTextError(`${source}: truncated PNG (a chunk header at byte ${at} runs past the end)`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (at + 12 + length > png.length) throw new PngTextError(`${source}: truncated PNG (chunk ${type} at byte ${at} needs ${length} bytes)`);
    const crc = view.getUint32(at + 8 + length);
    if (crc32(png.subarray(at + 4, at + 8 + length)) !== crc) throw new PngTextError(`${source}: chunk ${type} at byte ${at} fails its CRC (the file is damaged)`);
    out.push({ type, at, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return out;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(latin1(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A copy of `png` with one uncompressed iTXt chunk per entry, placed before the image data (where
 * readers that stop at the pixels still see them). Throws on a keyword PNG does not allow.
 */
export function withPngText(png: Uint8Array, entries: Record<string, string>, source = 'PNG'): Uint8Array {
  const list = chunks(png, source);
  const idat = list.find((c) => c.type === 'IDAT');
  if (!idat) throw new PngTextError(`${source} has no image data (IDAT)`);
  const enc = new TextEncoder();
  const added = Object.entries(entries).map(([key, text]) => {
    if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(key) || /^ | $| {2}/.test(key))
      throw new PngTextError(`PNG text keyword "${key}" must be 1–79 Latin-1 characters without leading, trailing or double spaces`);
    // keyword \0, compression flag 0, method 0, language tag "" \0, translated keyword "" \0, text
    return chunk('iTXt', new Uint8Array([...latin1(key), 0, 0, 0, 0, 0, ...enc.encode(text)]));
  });
  const size = added.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(png.length + size);
  out.set(png.subarray(0, idat.at), 0);
  let at = idat.at;
  for (const c of added) {
    out.set(c, at);
    at += c.length;
  }
  out.set(png.subarray(idat.at), at);
  return out;
}

/**
 * The text entries of a PNG (tEXt and uncompressed iTXt; compressed ones are skipped), by keyword.
 * Throws {@link PngTextError} for a file that is not a PNG or is damaged.
 */
export function readPngText(png: Uint8Array, source = 'PNG'): Record<string, string> {
  const out: Record<string, string> = {};
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const text = (b: Uint8Array): string => String.fromCharCode(...b);
  for (const c of chunks(png, source)) {
    const nul = c.data.indexOf(0);
    if (nul < 1) continue;
    const key = text(c.data.subarray(0, nul));
    if (c.type === 'tEXt') out[key] = new TextDecoder('latin1').decode(c.data.subarray(nul + 1));
    else if (c.type === 'iTXt' && c.data[nul + 1] === 0) {
      const lang = c.data.indexOf(0, nul + 3);
      const translated = lang < 0 ? -1 : c.data.indexOf(0, lang + 1);
      if (translated >= 0) out[key] = utf8.decode(c.data.subarray(translated + 1));
    }
  }
  return out;
}

/** The entries a result PNG carries: the graph as it ran, the run's report (settings) and its metrics. */
export function resultPngText(graph: WireGraph, report?: WireReport): Record<string, string> {
  const { metrics, ...run } = report ?? {};
  return {
    Software: 'Lagrange Studio',
    [RESULT_PNG_KEYS.graph]: JSON.stringify(graph),
    ...(report ? { [RESULT_PNG_KEYS.run]: JSON.stringify(run) } : {}),
    ...(metrics ? { [RESULT_PNG_KEYS.metrics]: JSON.stringify(metrics) } : {}),
  };
}
