/**
 * The renderer's connections to an engine host: the desktop app's preload bridge when present,
 * otherwise the browser-mode WebSocket (its token comes from the page URL). Both carry the same
 * protocol; `engineClient` types it.
 */
import type { Transport } from '../../protocol/client';
import type { LagrangeBridge } from '../../protocol/bridge';
import type { ServerMessage, WireRunEvent } from '../../protocol/messages';
import { useConnection } from '../state/connection';

/** An error answered by the host, with the graph issues it listed. */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    message: string,
    readonly issues: { path: string; nodeId?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The preload bridge of the desktop app, when running there. */
export function bridge(): LagrangeBridge | undefined {
  return (window as unknown as { lagrange?: LagrangeBridge }).lagrange;
}

/** Transport over the desktop app's preload bridge. */
export function bridgeTransport(b: LagrangeBridge): Transport {
  return {
    async request(method, params) {
      const r = await b.request(method, params);
      if (!r.ok) throw new EngineError(r.error, r.issues);
      return r.result;
    },
    onRunEvent: (l) => b.onRunEvent(l),
  };
}

/**
 * Why the socket did not open. A browser does not show a refused upgrade's status, so the server
 * is asked for the page: when it answers, it is up and refused this page's token (the only upgrade
 * it refuses from its own page is a 401 for the token); when it does not, it is not running.
 */
async function whyNot(page: URL, token: string): Promise<EngineError> {
  const up = await fetch(new URL('/', page), { method: 'HEAD', cache: 'no-store' }).then(
    (r) => r.ok,
    () => false,
  );
  if (!up) return new EngineError('cannot reach the engine server; is `npm start` still running?');
  const why = `the engine server refused the token (401): ${token ? 'this link’s access token is not the one' : 'this page needs the link with the access token that'} \`npm start\` printed`;
  useConnection.getState().setRefused(why);
  return new EngineError(why);
}

/** Transport over the browser-mode WebSocket; reconnects lazily after the socket closes. */
export function socketTransport(href = window.location.href): Transport {
  const page = new URL(href);
  const token = page.searchParams.get('token') ?? '';
  const address = `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}/api/socket?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(runId: string, e: WireRunEvent) => void>();
  const closeListeners = new Set<(reason: string) => void>();
  let next = 1;
  let socket: Promise<WebSocket> | undefined;

  const connect = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(address);
      ws.onopen = () => {
        useConnection.getState().setRefused(undefined);
        resolve(ws);
      };
      ws.onerror = () => void whyNot(page, token).then((e) => reject(e));
      ws.onclose = () => {
        socket = undefined;
        for (const p of pending.values()) p.reject(new EngineError('the engine server closed the connection'));
        pending.clear();
        for (const l of closeListeners) l('lost the connection to the engine server (was `npm start` stopped?); the run ended there');
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data as string) as ServerMessage;
        if ('runId' in msg) for (const l of listeners) l(msg.runId, msg.event);
        else {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (msg.ok) p?.resolve(msg.result);
          else p?.reject(new EngineError(msg.error, msg.issues));
        }
      };
    });

  return {
    async request(method, params) {
      socket ??= connect();
      const ws = await socket.catch((e: Error) => {
        socket = undefined;
        throw e;
      });
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    onRunEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onClose(l) {
      closeListeners.add(l);
    },
  };
}
