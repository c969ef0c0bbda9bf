/**
 * Uploads as the browser-mode server accepts them: a PNG or a `.npy` image array, checked by its
 * header on arrival (not only by its name), at most a per-file size, and within a quota for the
 * whole server, so a page cannot fill the disk or store bytes the engine will not read.
 */
import { crc32 } from 'node:zlib';
import { decodeNpy } from '../engine/io/npy';
import { RequestError } from '../engine/api/service';

/** Limits of {@link uploadBudget}, in bytes of the decoded file. */
export interface UploadLimits {
  /** One file. */
  fileBytes: number;
  /** Everything uploaded to one server, over its lifetime. */
  totalBytes: number;
}

/** 32 MiB per file (far above a 4096² 16-bit RGB PNG's usual size), 512 MiB per server. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { fileBytes: 32 * 2 ** 20, totalBytes: 512 * 2 ** 20 };

/** Largest image an upload may declare (a decoded 4096² RGB image is 192 MiB of float32). */
const MAX_PIXELS = 4096 * 4096;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Bit depths PNG allows per colour type (greyscale, RGB, palette, grey + alpha, RGBA). */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** `n` bytes as KiB or MiB, one decimal unless whole. */
export function formatBytes(n: number): string {
  const [v, unit] = n >= 2 ** 20 ? [n / 2 ** 20, 'MiB'] : [n / 1024, 'KiB'];
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
}

/** Why `b` is not a PNG the engine can read, from its header alone; undefined when it looks fine. */
export function pngProblem(b: Buffer): string | undefined {
  if (b.length < 8 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'the file does not start with the PNG signature';
  if (b.length < 33) return 'the file ends inside its header';
  if (b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') return 'its first chunk is not the 13-byte IHDR header';
  if (crc32(b.subarray(12, 29)) !== b.readUInt32BE(29)) return 'its IHDR header is damaged (CRC mismatch)';
  const w = b.readUInt32BE(16),
    h = b.readUInt32BE(20),
    depth = b[24]!,
    colour = b[25]!;
  if (w === 0 || h === 0) return `it declares a ${w}×${h} image`;
  if (!PNG_DEPTHS[colour]?.includes(depth)) return `bit depth ${depth} with colour type ${colour} is not a valid PNG combination`;
  if (w * h > MAX_PIXELS) return `its ${w}×${h} pixels are more than the ${MAX_PIXELS / 1e6} million (4096×4096) an upload may have`;
  if (b.lastIndexOf('IEND', undefined, 'latin1') < 33) return 'the file is cut short (no IEND chunk)';
  return undefined;
}

/** Why `b` is not a `.npy` image array (C×H×W or N×C×H×W); undefined when the engine can read it. */
export function npyProblem(b: Buffer): string | undefined {
  let shape: readonly number[];
  try {
    shape = decodeNpy(b, 'upload').shape;
  } catch (e) {
    // decodeNpy's message starts with the name it was given; the caller puts the file's own first.
    return (e as Error).message.replace(/^upload: /, '');
  }
  if (shape.length !== 3 && shape.length !== 4) return `got an array of shape ${shape.join('×') || '()'}`;
  const pixels = shape.at(-1)! * shape.at(-2)!;
  if (pixels > MAX_PIXELS) return `its ${shape.at(-1)}×${shape.at(-2)} pixels are more than the ${MAX_PIXELS / 1e6} million (4096×4096) an upload may have`;
  return undefined;
}

/** The per-server upload quota: checks files as they arrive and counts what was stored. */
export interface UploadBudget {
  /**
   * Checks an upload (name, size, quota, type) and reserves its size.
   * @returns the decoded size in bytes, to {@link refund} if storing fails
   * @throws RequestError naming the file and what was expected
   */
  take(name: string, base64: string): number;
  /** Gives back a reservation whose file was not stored. */
  refund(bytes: number): void;
}

/** A fresh {@link UploadBudget} with these limits. */
export function uploadBudget(limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): UploadBudget {
  let used = 0;
  return {
    take(name, base64) {
      const refuse = (why: string): never => {
        throw new RequestError(`${name}: ${why}`);
      };
      const ext = /\.(png|npy)$/i.exec(name)?.[1]?.toLowerCase();
      if (!ext) refuse('expected a .png or .npy file');
      // Buffer.from skips characters that are not base64; refuse them instead of storing less.
      if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) refuse('the upload is not valid base64');
      const size = (base64.length / 4) * 3 - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
      if (size > limits.fileBytes) refuse(`${formatBytes(size)} is over the ${formatBytes(limits.fileBytes)} limit of one upload`);
      if (used + size > limits.totalBytes) {
        refuse(`uploads to this studio are limited to ${formatBytes(limits.totalBytes)} in all and ${formatBytes(used)} are used; restart the studio to upload more`);
      }
      const bytes = Buffer.from(base64, 'base64');
      const why = ext === 'png' ? pngProblem(bytes) : npyProblem(bytes);
      if (why) refuse(ext === 'png' ? `expected a PNG image, but ${why}` : `expected a NumPy .npy array (C×H×W or N×C×H×W), but ${why}`);
      used += size;
      return size;
    },
    refund(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}
