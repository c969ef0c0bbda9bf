/**
 * Which tabs are live, so a tab's slot is only offered for recovery once its tab is gone. Web Locks
 * first: each tab holds a lock named after its id for its lifetime; the browser releases it when
 * the tab closes, reloads or crashes, and hidden tabs keep it (timers there are throttled, locks
 * are not). Where Web Locks are missing (an insecure context) a heartbeat in local storage stands in.
 */

/** Claims tab ids and lists the live ones. */
export interface Liveness {
  /** Holds `id` while this page lives; resolves false when another live page holds it. */
  claim(id: string): Promise<boolean>;
  /** Ids held by live pages, this one included. */
  live(): Promise<Set<string>>;
  /** Lets go of an id this page claimed (its slot becomes another gone tab's). */
  release(id: string): void;
}

const LOCK = 'lagrange.tab.';

/** Liveness by Web Locks. */
export function lockLiveness(locks: LockManager): Liveness {
  const held = new Map<string, () => void>();
  return {
    claim: (id) =>
      new Promise<boolean>((resolve, reject) => {
        locks
          .request(LOCK + id, { ifAvailable: true }, (lock) => {
            resolve(lock !== null);
            // Held until the page goes (or release): the callback's promise settles only then.
            return lock ? new Promise<void>((done) => held.set(id, done)) : undefined;
          })
          .catch(reject);
      }),
    release(id) {
      held.get(id)?.();
      held.delete(id);
    },
    async live() {
      const { held = [] } = await locks.query();
      return new Set(held.flatMap((l) => (l.name?.startsWith(LOCK) ? [l.name.slice(LOCK.length)] : [])));
    },
  };
}

/** Options of {@link beatLiveness}. */
export interface BeatOptions {
  /** How often a tab writes its heartbeat. */
  everyMs?: number;
  /** A heartbeat older than this is a gone tab (hidden tabs may beat only once a minute). */
  staleMs?: number;
  now?: () => number;
}

/** Liveness by a heartbeat `lagrange.autosave.beat.<id>` in `storage`, removed on pagehide. */
export function beatLiveness(storage: Storage, { everyMs = 10_000, staleMs = 90_000, now = Date.now }: BeatOptions = {}): Liveness {
  const PREFIX = 'lagrange.autosave.beat.';
  const fresh = (k: string): boolean => now() - Number(storage.getItem(k)) < staleMs;
  const beat = (k: string): void => {
    try {
      storage.setItem(k, String(now()));
    } catch {
      // Storage full: this tab may look gone to others after staleMs; its slot is rewritten anyway.
    }
  };
  const timers = new Map<string, ReturnType<typeof setInterval>>();
  return {
    async claim(id) {
      const k = PREFIX + id;
      if (storage.getItem(k) !== null && fresh(k)) return false;
      beat(k);
      timers.set(
        id,
        setInterval(() => beat(k), everyMs),
      );
      // A reload or a closed tab says so at once; only a crash has to wait for staleMs.
      globalThis.addEventListener?.('pagehide', () => storage.removeItem(k));
      return true;
    },
    release(id) {
      clearInterval(timers.get(id));
      timers.delete(id);
      storage.removeItem(PREFIX + id);
    },
    async live() {
      const out = new Set<string>();
      for (let i = 0; i < storage.length; i++) {
        const k = storage.key(i);
        if (k?.startsWith(PREFIX) && fresh(k)) out.add(k.slice(PREFIX.length));
      }
      return out;
    },
  };
}

/** Web Locks where the browser has them, else the heartbeat. */
export function defaultLiveness(storage: Storage): Liveness {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return locks ? lockLiveness(locks) : beatLiveness(storage);
}
