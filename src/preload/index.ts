/**
 * Preload script of the studio window: exposes {@link LagrangeBridge} as `window.lagrange` and
 * nothing else. It runs sandboxed, so it is bundled into one CommonJS file whose only `require`
 * is 'electron' (see electron.vite.config.ts). The page never sees ipcRenderer or its events.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { LagrangeBridge } from '../protocol/bridge';
import { IPC } from '../protocol/bridge';
import type { WireRunEvent } from '../protocol/messages';

const bridge: LagrangeBridge = {
  request: (method, params) => ipcRenderer.invoke(IPC.request, method, params),
  onRunEvent(listener) {
    // The IPC event (with its sender) stays here; the page gets plain data.
    const relay = (_event: IpcRendererEvent, runId: string, event: WireRunEvent): void => listener(runId, event);
    ipcRenderer.on(IPC.runEvent, relay);
    return () => {
      ipcRenderer.removeListener(IPC.runEvent, relay);
    };
  },
  openFile: (filters) => ipcRenderer.invoke(IPC.openFile, filters),
  saveFile: (defaultName, base64, filters) => ipcRenderer.invoke(IPC.saveFile, defaultName, base64, filters),
};

contextBridge.exposeInMainWorld('lagrange', bridge);
