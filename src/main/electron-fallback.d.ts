/**
 * Stand-in types for the few Electron APIs the desktop host uses, for checkouts where the optional
 * `electron` package is absent (its install script downloads the Electron binary and fails without
 * network, and npm then drops the package along with its electron.d.ts). tsconfig.json maps
 * 'electron' to node_modules/electron/electron.d.ts first, so the real definitions win whenever
 * the package is installed; keep these a faithful subset of them.
 */
type Listener<A extends unknown[]> = (...args: A) => void;

export interface Event {
  preventDefault(): void;
  readonly defaultPrevented: boolean;
}
export type EventWith<Params extends object> = Event & Params;

export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface WebPreferences {
  preload?: string;
  sandbox?: boolean;
  contextIsolation?: boolean;
  nodeIntegration?: boolean;
  nodeIntegrationInWorker?: boolean;
  nodeIntegrationInSubFrames?: boolean;
  webSecurity?: boolean;
  allowRunningInsecureContent?: boolean;
  webviewTag?: boolean;
  spellcheck?: boolean;
}

export interface BrowserWindowConstructorOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  title?: string;
  backgroundColor?: string;
  show?: boolean;
  autoHideMenuBar?: boolean;
  webPreferences?: WebPreferences;
}

export interface WindowOpenHandlerResponse {
  action: 'allow' | 'deny';
}

export interface WebContents {
  send(channel: string, ...args: any[]): void;
  setWindowOpenHandler(handler: (details: { url: string }) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate', listener: Listener<[details: EventWith<{ url: string; isMainFrame: boolean }>, url: string]>): this;
  on(event: 'will-attach-webview', listener: Listener<[event: Event, webPreferences: WebPreferences, params: Record<string, string>]>): this;
}

export declare class BrowserWindow {
  constructor(options?: BrowserWindowConstructorOptions);
  readonly webContents: WebContents;
  once(event: 'ready-to-show', listener: () => void): this;
  on(event: 'closed', listener: () => void): this;
  loadURL(url: string): Promise<void>;
  loadFile(filePath: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
}

export interface OpenDialogOptions {
  title?: string;
  defaultPath?: string;
  filters?: FileFilter[];
  properties?: Array<'openFile' | 'openDirectory' | 'multiSelections' | 'showHiddenFiles'>;
}
export interface SaveDialogOptions {
  title?: string;
  defaultPath?: string;
  filters?: FileFilter[];
}
export interface OpenDialogReturnValue {
  canceled: boolean;
  filePaths: string[];
}
export interface SaveDialogReturnValue {
  canceled: boolean;
  filePath: string;
}

export declare const dialog: {
  showOpenDialog(window: BrowserWindow, options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  showOpenDialog(options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  showSaveDialog(window: BrowserWindow, options: SaveDialogOptions): Promise<SaveDialogReturnValue>;
  showSaveDialog(options: SaveDialogOptions): Promise<SaveDialogReturnValue>;
  showErrorBox(title: string, content: string): void;
};

export declare const app: {
  readonly isPackaged: boolean;
  whenReady(): Promise<void>;
  quit(): void;
  enableSandbox(): void;
  requestSingleInstanceLock(): boolean;
  getPath(name: 'home' | 'appData' | 'userData' | 'temp' | 'desktop' | 'documents' | 'downloads'): string;
  on(event: 'second-instance', listener: Listener<[event: Event, argv: string[], workingDirectory: string]>): unknown;
  on(event: 'web-contents-created', listener: Listener<[event: Event, webContents: WebContents]>): unknown;
  on(event: 'window-all-closed' | 'activate', listener: () => void): unknown;
};

export interface Session {
  setPermissionRequestHandler(handler: ((webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null): void;
}
export declare const session: { readonly defaultSession: Session };

export interface IpcMainInvokeEvent extends Event {
  readonly senderFrame: { readonly url: string } | null;
}
export declare const ipcMain: {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => unknown): void;
};

export type IpcRendererEvent = Event;
export declare const ipcRenderer: {
  invoke(channel: string, ...args: any[]): Promise<any>;
  on(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): unknown;
};
export declare const contextBridge: {
  exposeInMainWorld(apiKey: string, api: any): void;
};
