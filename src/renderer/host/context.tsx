/**
 * The engine client and the host's file access, provided to every component. Files go through the
 * desktop app's native dialogs when the preload bridge is present, else the browser's file picker
 * and downloads.
 */
import { createContext, useContext } from 'react';
import type { EngineClient } from '../../protocol/client';
import type { FileFilter, LagrangeBridge, PickedFile } from '../../protocol/bridge';
import { bytesToBase64 } from './base64';

/** Opening and saving files on the user's machine. */
export interface HostFiles {
  open(filters: FileFilter[]): Promise<PickedFile | undefined>;
  /** Saves bytes (base64) under a suggested name; resolves with where it went (path or name). */
  save(name: string, base64: string, filters: FileFilter[]): Promise<string | undefined>;
}

/** Native dialogs through the preload bridge. */
export function bridgeFiles(b: LagrangeBridge): HostFiles {
  return { open: (f) => b.openFile(f), save: (name, data, f) => b.saveFile(name, data, f) };
}

/** The browser's file picker and downloads. */
export function browserFiles(): HostFiles {
  return {
    open: (filters) =>
      new Promise((resolve) => {
        const input = document.createElement('input');
        input.type = 'file';
        input.accept = filters.flatMap((f) => f.extensions.map((e) => `.${e}`)).join(',');
        input.onchange = async () => {
          const file = input.files?.[0];
          resolve(file ? { name: file.name, base64: bytesToBase64(new Uint8Array(await file.arrayBuffer())) } : undefined);
        };
        input.addEventListener('cancel', () => resolve(undefined));
        input.click();
      }),
    async save(name, base64) {
      const a = document.createElement('a');
      a.href = `data:application/octet-stream;base64,${base64}`;
      a.download = name;
      a.click();
      return name;
    },
  };
}

/** What components reach through {@link useHost}. */
export interface Host {
  engine: EngineClient;
  files: HostFiles;
}

export const HostContext = createContext<Host | null>(null);

/** The engine client and file access. */
export function useHost(): Host {
  const h = useContext(HostContext);
  if (!h) throw new Error('useHost outside <HostContext.Provider>');
  return h;
}
