/**
 * The main process's IPC handlers: protocol requests to the engine and the native file dialogs.
 * Written against small interfaces instead of Electron's objects, so the tests drive it with
 * fakes. Every message is checked (sender, then arguments) before anything runs.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FileFilter, PickedFile, Reply } from '../protocol/bridge';
import { IPC } from '../protocol/bridge';
import { MAX_FILE_BYTES, parseIpcArgs } from '../protocol/ipc';

/** What an invoke handler is told about the sender (a subset of Electron's IpcMainInvokeEvent). */
export interface InvokeEventLike {
  /** The frame that sent the message; null once it navigated away or was destroyed. */
  readonly senderFrame?: { readonly url: string } | null;
}

/** The part of Electron's `ipcMain` used here. */
export interface IpcLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
}

/** Native file dialogs; each resolves with the chosen path, or undefined when the user cancels. */
export interface DialogsLike {
  open(filters: FileFilter[]): Promise<string | undefined>;
  save(defaultName: string, filters: FileFilter[]): Promise<string | undefined>;
}

/** What answers protocol requests (an EngineService). */
export interface ServiceLike {
  handle(method: string, params: unknown): Promise<unknown>;
}

/** Options of {@link registerEngineIpc}. */
export interface EngineIpcOptions {
  /** Whether a message from a frame showing `url` may be served (see `isAppUrl`). */
  isTrustedSender(url: string): boolean;
  dialogs: DialogsLike;
}

type Issue = NonNullable<Extract<Reply, { ok: false }>['issues']>[number];

/** Graph issues carried by the engine's RequestError (duck-typed: the engine is not imported here). */
function issuesOf(e: unknown): Issue[] | undefined {
  const issues = (e as { issues?: unknown }).issues;
  return Array.isArray(issues) ? (issues as Issue[]) : undefined;
}

/**
 * Registers the handlers of {@link IPC}'s invoke channels on `ipc`.
 * - `request` always resolves with a {@link Reply}: IPC would drop an error's extra fields.
 * - `openFile` resolves with the picked file (base64) and `saveFile` with the written path; both
 *   resolve undefined when the user cancels and reject on a bad message or an I/O failure.
 */
export function registerEngineIpc(ipc: IpcLike, service: ServiceLike, opts: EngineIpcOptions): void {
  const trusted = (event: InvokeEventLike): boolean => {
    const url = event.senderFrame?.url;
    return url !== undefined && opts.isTrustedSender(url);
  };
  const refuse = (channel: string, event: InvokeEventLike): string => `${channel}: refused a message from ${event.senderFrame?.url ?? 'an unknown frame'} (not the studio page)`;

  ipc.handle(IPC.request, async (event, ...args): Promise<Reply> => {
    if (!trusted(event)) return { ok: false, error: refuse(IPC.request, event) };
    try {
      const [method, params] = parseIpcArgs('request', args);
      return { ok: true, result: await service.handle(method, params) };
    } catch (e) {
      const issues = issuesOf(e);
      return { ok: false, error: e instanceof Error ? e.message : String(e), ...(issues ? { issues } : {}) };
    }
  });

  ipc.handle(IPC.openFile, async (event, ...args): Promise<PickedFile | undefined> => {
    if (!trusted(event)) throw new Error(refuse(IPC.openFile, event));
    const [filters] = parseIpcArgs('openFile', args);
    const path = await opts.dialogs.open(filters);
    if (path === undefined) return undefined;
    // Size first, so a huge file is refused without being read into memory.
    const { size } = await stat(path);
    if (size > MAX_FILE_BYTES) throw new Error(`${basename(path)} is ${(size / 2 ** 20).toFixed(0)} MB; files of at most 64 MB can be opened`);
    return { name: basename(path), base64: (await readFile(path)).toString('base64') };
  });

  ipc.handle(IPC.saveFile, async (event, ...args): Promise<string | undefined> => {
    if (!trusted(event)) throw new Error(refuse(IPC.saveFile, event));
    const [defaultName, base64, filters] = parseIpcArgs('saveFile', args);
    const path = await opts.dialogs.save(defaultName, filters);
    if (path === undefined) return undefined;
    // The renderer only supplies bytes; where they go is the user's choice in the dialog.
    await writeFile(path, Buffer.from(base64, 'base64'));
    return path;
  });
}
