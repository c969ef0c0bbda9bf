/**
 * Schemas of the desktop app's IPC arguments (the channels of {@link IPC} in `bridge.ts`). The
 * main process checks every message with these before acting on it: the renderer is treated as
 * untrusted input, exactly like a WebSocket client in browser mode.
 */
import { z } from 'zod';
import type { FileFilter } from './bridge';

/** Largest file the open/save channels move (bytes); graphs, images and run bundles fit easily. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Base64 of at most {@link MAX_FILE_BYTES} bytes (standard alphabet, optional padding). */
export const base64Schema = z
  .string()
  .max(Math.ceil(MAX_FILE_BYTES / 3) * 4, 'file too large (64 MB at most)')
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

/** One dialog filter; extensions are bare (`json`, not `.json`) or `*`. */
export const fileFilterSchema = z
  .object({
    name: z.string().min(1).max(100),
    extensions: z
      .array(
        z
          .string()
          .regex(/^(\*|[A-Za-z0-9]+(\.[A-Za-z0-9]+)*)$/, 'an extension like "json" or "*"')
          .max(20),
      )
      .min(1)
      .max(20),
  })
  .strict() satisfies z.ZodType<FileFilter>;

/** The filter list of a dialog. */
export const fileFiltersSchema = z.array(fileFilterSchema).max(20);

/** A suggested file name: no folders (the user picks where it goes), no control characters. */
export const fileNameSchema = z
  .string()
  .min(1)
  .max(255)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .regex(/^[^/\\\u0000-\u001f]+$/, 'a file name without folders or control characters');

/** Arguments of each channel, positionally as `ipcRenderer.invoke` sends them. */
export const ipcArgs = {
  request: { schema: z.tuple([z.string().min(1).max(100), z.unknown().optional()]), names: ['method', 'params'] },
  openFile: { schema: z.tuple([fileFiltersSchema]), names: ['filters'] },
  saveFile: { schema: z.tuple([fileNameSchema, base64Schema, fileFiltersSchema]), names: ['defaultName', 'base64', 'filters'] },
} as const;

/** Raised when an IPC message does not match its channel's schema; the message names the field. */
export class IpcArgumentError extends Error {
  override name = 'IpcArgumentError';
}

/**
 * Checks the arguments of one channel.
 * @returns them typed
 * @throws IpcArgumentError naming each wrong field, e.g. `filters.0.extensions: …`
 */
export function parseIpcArgs<K extends keyof typeof ipcArgs>(channel: K, args: unknown[]): z.infer<(typeof ipcArgs)[K]['schema']> {
  const { schema, names } = ipcArgs[channel];
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data as z.infer<(typeof ipcArgs)[K]['schema']>;
  const why = parsed.error.issues.map((i) => {
    const [first, ...rest] = i.path;
    const field = typeof first === 'number' ? (names[first] ?? `argument ${first}`) : 'arguments';
    return `${[field, ...rest.map(String)].join('.')}: ${i.message}`;
  });
  throw new IpcArgumentError(`${channel}: ${why.join('; ')}`);
}
