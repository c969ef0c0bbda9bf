/**
 * The renderer's only way to the engine. Browser mode implements it over HTTP + Server-Sent
 * Events against the loopback server; the Electron host will implement it over IPC.
 */

/** A shipped preset. */
export interface PresetInfo {
  name: string;
  description: string;
}

/** The parts of a graph document the page shows. */
export interface GraphDoc {
  name: string;
  description: string;
  nodes: { id: string; kind: string; params: Record<string, unknown>; position?: { x: number; y: number } }[];
  edges: { source: string; sourcePort: string; target: string; targetPort: string }[];
}

/** Run events as the engine emits them (preview pixels base64-encoded RGBA). */
export type RunEvent =
  | { type: 'progress'; iteration: number; of: number; nfe: number; elapsedMs: number }
  | { type: 'preview'; nodeId: string; label: string; iteration: number; width: number; height: number; rgba: string }
  | { type: 'metrics'; iteration: number; residual: number[]; normalisedResidual: number[]; psnr?: number[]; ssim?: number[] }
  | { type: 'done'; report: { nfe: number; wallMs: number; provider: string; seed: number; metrics?: { psnr?: number[]; ssim?: number[]; residual: number[] } } }
  | { type: 'cancelled'; iteration: number }
  | { type: 'error'; nodeId?: string; message: string };

/** What the studio asks of the engine. */
export interface EngineClient {
  presets(): Promise<PresetInfo[]>;
  preset(name: string): Promise<GraphDoc>;
  /** Starts a run; `onEvent` receives every event until done or error. Returns a function that stops listening. */
  run(req: { preset: string; task?: string; samples?: number; iterations?: number }, onEvent: (e: RunEvent) => void): Promise<() => void>;
}

async function get<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  return (await r.json()) as T;
}

/** EngineClient over the browser-mode server's HTTP API. */
export function httpEngineClient(base = ''): EngineClient {
  return {
    presets: () => get<PresetInfo[]>(`${base}/api/presets`),
    preset: (name) => get<GraphDoc>(`${base}/api/presets/${encodeURIComponent(name)}`),
    async run(req, onEvent) {
      const r = await fetch(`${base}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
      const { id, error } = (await r.json()) as { id?: string; error?: string };
      if (!id) throw new Error(error ?? 'run refused');
      const source = new EventSource(`${base}/api/runs/${id}/events`);
      source.onmessage = (m) => {
        const e = JSON.parse(m.data as string) as RunEvent;
        onEvent(e);
        if (e.type === 'done' || e.type === 'error') source.close();
      };
      return () => source.close();
    },
  };
}
