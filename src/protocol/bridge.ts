/**
 * What the desktop app's preload script exposes to the renderer as `window.lagrange` (through
 * contextBridge): protocol requests, run events, and native file dialogs. Browser mode has no
 * bridge; the renderer then uses the WebSocket and the browser's own file picker and downloads.
 */
import type { WireRunEvent } from './messages';

/** IPC channel names shared by the preload script and the main process. */
export const IPC = {
  request: 'lagrange:request',
  runEvent: 'lagrange:run-event',
  openFile: 'lagrange:open-file',
  saveFile: 'lagrange:save-file',
} as const;

/** A file the user picked: its name and contents (base64). */
export interface PickedFile {
  name: string;
  base64: string;
}

/** A file dialog filter, e.g. `{ name: 'Solver graph', extensions: ['json'] }`. */
export interface FileFilter {
  name: string;
  extensions: string[];
}

/** The answer to one request. */
export type Reply = { ok: true; result: unknown } | { ok: false; error: string; issues?: { path: string; nodeId?: string; message: string }[] };

/** The preload bridge. */
export interface LagrangeBridge {
  /** A protocol request; errors come back as an envelope (IPC would drop their fields). */
  request(method: string, params: unknown): Promise<Reply>;
  onRunEvent(listener: (runId: string, event: WireRunEvent) => void): () => void;
  /** Native open dialog; undefined when the user cancels. */
  openFile(filters: FileFilter[]): Promise<PickedFile | undefined>;
  /** Native save dialog; resolves with the chosen path, or undefined when the user cancels. */
  saveFile(defaultName: string, base64: string, filters: FileFilter[]): Promise<string | undefined>;
}
