/**
 * Reaching a study queue: a `redis://` URL checked and connected to within a bounded time, the
 * BullMQ connection options made from it, and the study version a queue is claimed for.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'bullmq';
import { STUDY_VERSION } from './job';

/** The BullMQ queue a study's jobs go to unless named otherwise. */
export const DEFAULT_QUEUE_NAME = 'lagrange-study';

/** How long connecting may take before the queue is reported unreachable. */
export const CONNECT_TIMEOUT_MS = 3000;

/** A queue URL that cannot be used: malformed, unreachable, or holding another study version. */
export class QueueError extends Error {
  override name = 'QueueError';
}

/** Where a study's queue lives. */
export interface QueueAddress {
  /** The URL as given (for messages). */
  url: string;
  name: string;
  /** ioredis options for BullMQ (`maxRetriesPerRequest: null`, as its workers require). */
  connection: RedisOptions;
}

/** Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). */
export function queueAddress(url: string, name = DEFAULT_QUEUE_NAME): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new QueueError(`--queue: '${url}' is not a URL; expected redis://host:port`, { cause: e });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueError(`--queue: '${url}' is not a redis:// URL; expected redis://host:port`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new QueueError(`--queue: '${url}': the path must be a database number (redis://host:port/1), got '/${db}'`);
  if (!/^[\w.-]+$/.test(name)) throw new QueueError(`--queue-name: '${name}' must be letters, digits, '.', '_' or '-'`);
  const connection: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
  };
  return { url, name, connection };
}

/**
 * Connects once, without retries, and pings: the queue is reachable or this throws a
 * {@link QueueError} naming the URL and the cause, within about {@link CONNECT_TIMEOUT_MS}.
 * The caller quits the returned client.
 */
export async function connectQueue(q: QueueAddress): Promise<Redis> {
  const client = new Redis({ ...(q.connection as object), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let cause: Error | undefined; // the socket's error: connect() itself only says the connection closed
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (e) {
    client.disconnect();
    const err = cause ?? (e as Error);
    const why = err.message || String(err);
    throw new QueueError(`cannot reach the queue ${q.url} (${why}; connecting may take up to ${CONNECT_TIMEOUT_MS / 1000} s): is redis-server running there?`, { cause: err });
  }
}

/** The Redis key holding the study version a queue's jobs are made for (under BullMQ's prefix, so obliterating the queue removes it). */
const versionKey = (q: QueueAddress): string => `bull:${q.name}:lagrange-version`;

/** The study version recorded on the queue, if any. */
export const queueVersion = async (client: Redis, q: QueueAddress): Promise<string | null> => client.get(versionKey(q));

/** Why a queue of `version` cannot take or run this version's jobs, or undefined. */
export function versionProblem(q: QueueAddress, version: string | null): string | undefined {
  if (version === null || version === STUDY_VERSION) return undefined;
  return `the queue ${q.url} (${q.name}) holds jobs of study version ${version}, and this lagrange is version ${STUDY_VERSION}: its rows would not be computed alike; use another --queue-name or Redis database (redis://host:port/1)`;
}

/** Records this version on the queue, or throws a {@link QueueError} if it holds another one. */
export async function claimQueue(client: Redis, q: QueueAddress): Promise<void> {
  await client.set(versionKey(q), STUDY_VERSION, 'NX');
  const why = versionProblem(q, await queueVersion(client, q));
  if (why) throw new QueueError(why);
}
