/**
 * What the browser-mode server lets a page read and store, over real loopback sockets: uploads are
 * checked on arrival (type by header, size per file, a quota per server); runs may read only
 * uploads, the bundled resources, the user's models and folders allowed at launch; a connection
 * runs at most two graphs at a time.
 */
import type { Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { encodePng } from '../src/engine/io/image';
import { encodeNpy } from '../src/engine/io/npy';
import { MODELS_DIR } from '../src/engine/io/prepare';
import { tensor } from '../src/engine/tensor/tensor';
import { simulate, writeMeasurement } from '../src/engine/simulate';
import { nodeKinds } from '../src/nodes/index';
import { FILE_PARAMS } from '../src/server/fileAccess';
import { startServer } from '../src/server/server';
import type { ProtocolClient, Reply } from './serverHelpers';
import { openSocket, protocolClient } from './serverHelpers';
import { writeConvOperator } from './helpers/onnxOperators';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lagrange-server-files-'));
const uploads = join(dir, 'uploads'),
  allowed = join(dir, 'allowed'),
  outside = join(dir, 'outside');
const servers: Server[] = [];
const sockets: WebSocket[] = [];

/** A 1×C×side×side image in [−1, 1]. */
const image = (side: number, c = 1): ReturnType<typeof tensor> =>
  tensor(
    [1, c, side, side],
    Float32Array.from({ length: c * side * side }, (_, i) => Math.sin(i) * 0.9),
  );
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Starts a server with these options and returns a client of one socket to it. */
async function connect(extra: Record<string, unknown> = {}): Promise<ProtocolClient> {
  const { server, token } = await startServer({
    port: 0,
    staticDir: join(dir, 'renderer'),
    presetsDir: resolve(ROOT, 'resources/presets'),
    uploadsDir: uploads,
    allow: [allowed],
    ...extra,
  });
  servers.push(server);
  const port = (server.address() as { port: number }).port;
  const ws = await openSocket(`ws://127.0.0.1:${port}/api/socket?token=${token}`);
  sockets.push(ws);
  return protocolClient(ws);
}

beforeAll(() => {
  for (const d of [allowed, outside]) mkdirSync(d, { recursive: true });
  writeFileSync(join(outside, 'secret.png'), encodePng(image(32)));
  writeFileSync(join(allowed, 'ok.png'), encodePng(image(32)));
  symlinkSync(join(outside, 'secret.png'), join(allowed, 'link.png'));
});
afterAll(() => {
  sockets.forEach((ws) => ws.close());
  servers.forEach((s) => s.close());
  rmSync(dir, { recursive: true, force: true });
});

/** A PNG whose IHDR claims width × height (with a correct CRC) and no image data. */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(10))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

describe('uploads', () => {
  let c: ProtocolClient;
  beforeAll(async () => {
    c = await connect({ uploadLimits: { fileBytes: 64 * 1024, totalBytes: 1024 * 1024 } });
  });
  const upload = (name: string, bytes: Uint8Array | string): Promise<Reply> => c.call('images.upload', { name, base64: typeof bytes === 'string' ? bytes : b64(bytes) });

  it('stores a PNG and a C×H×W .npy, under the uploads folder', async () => {
    const png = encodePng(image(16, 3));
    const r = await upload('cat.png', png);
    const { ref } = r.result as { ref: string };
    expect(relative(uploads, ref).startsWith('..')).toBe(false);
    expect(readFileSync(ref).equals(Buffer.from(png))).toBe(true);
    expect((await upload('x.npy', encodeNpy(tensor([1, 16, 16])))).ok).toBe(true);
  });

  it('refuses bytes that are not what the name says, naming the file and what was expected', async () => {
    expect((await upload('notes.png', Buffer.from('hello, not a picture'))).error).toMatch(/^notes\.png: expected a PNG image, but .*signature/);
    expect((await upload('swapped.npy', encodePng(image(8)))).error).toMatch(/^swapped\.npy: expected a NumPy \.npy array .*magic/);
    expect((await upload('vector.npy', encodeNpy(tensor([5])))).error).toMatch(/^vector\.npy: expected .*C×H×W or N×C×H×W.*shape 5$/);
    expect((await upload('cut.png', encodePng(image(8)).subarray(0, 20))).error).toMatch(/^cut\.png: expected a PNG image, but/);
    expect((await upload('huge.png', pngHeader(100_000, 100_000))).error).toMatch(/^huge\.png: .*100000×100000.*pixels/);
    expect((await upload('doc.txt', Buffer.from('x'))).error).toMatch(/doc\.txt: expected a \.png or \.npy file/);
    expect((await upload('bad.png', '!!not base64!!')).error).toMatch(/^bad\.png: .*not valid base64/);
  });

  it('refuses a file over the size limit', async () => {
    const big = encodeNpy(tensor([1, 1, 130, 130])); // 67 728 bytes
    expect((await upload('big.npy', big)).error).toMatch(/^big\.npy: 66\.1 KiB is over the 64 KiB limit of one upload/);
  });

  it('stops storing once the server quota is used up', async () => {
    const q = await connect({ uploadLimits: { fileBytes: 64 * 1024, totalBytes: 150 * 1024 } });
    const file = b64(encodeNpy(tensor([1, 1, 120, 120]))); // 57 728 bytes
    expect((await q.call('images.upload', { name: 'a.npy', base64: file })).ok).toBe(true);
    expect((await q.call('images.upload', { name: 'b.npy', base64: file })).ok).toBe(true);
    expect((await q.call('images.upload', { name: 'c.npy', base64: file })).error).toMatch(/^c\.npy: .*150 KiB in all.*restart/);
  });
});

describe('files a run may read', () => {
  let c: ProtocolClient;
  let ddiff: { nodes: { id: string; kind: string; params: Record<string, unknown> }[]; overrides: Record<string, Record<string, Record<string, unknown>>> };
  beforeAll(async () => {
    c = await connect();
    ddiff = (await c.call('presets.get', { name: 'ddiff' })).result as typeof ddiff;
  });
  /** The ddiff preset with node `id`'s params merged with `params`. */
  const withParams = (id: string, params: Record<string, unknown>): typeof ddiff => ({
    ...ddiff,
    nodes: ddiff.nodes.map((n) => (n.id === id ? { ...n, params: { ...n.params, ...params } } : n)),
  });
  /** Starts a run; when it starts, cancels it at once. */
  async function start(params: Record<string, unknown>): Promise<Reply> {
    const r = await c.call('run.start', { iterations: 1000, ...params });
    if (r.ok) {
      const { runId } = r.result as { runId: string };
      await c.call('run.cancel', { runId });
      await c.events(runId);
    }
    return r;
  }
  const secret = join(outside, 'secret.png');

  it('refuses paths outside the allowed folders, naming the node and the path', async () => {
    const link = join(allowed, 'link.png'),
      viaModels = `model:${relative(MODELS_DIR, secret)}`,
      rel = relative(process.cwd(), secret);
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ doc: withParams('image', { source: secret }) }, 'image', secret],
      [{ doc: ddiff, measurement: { kind: 'simulate', image: secret } }, 'image', secret],
      [{ doc: { ...ddiff, overrides: { ...ddiff.overrides, 'task:inpaint-box': { ...ddiff.overrides['task:inpaint-box'], image: { source: secret } } } } }, 'image', secret],
      [{ doc: withParams('image', { source: viaModels }) }, 'image', viaModels],
      [{ doc: withParams('image', { source: rel }) }, 'image', rel],
      // A link inside an allowed folder is followed to where it points.
      [{ doc: withParams('image', { source: link }) }, 'image', link],
      [{ doc: withParams('prior', { source: 'onnx', model: outside }) }, 'prior', outside],
      [{ doc: withParams('prior', { source: 'gaussian', meanImage: secret }) }, 'prior', secret],
      [{ doc: withParams('metrics', { lpips: outside }) }, 'metrics', outside],
      [{ doc: ddiff, measurement: { kind: 'bundle', path: outside } }, 'measure', outside],
    ];
    for (const [params, node, shown] of refusals) {
      const r = await start(params);
      expect(r.ok, shown).toBe(false);
      expect(r.error, shown).toMatch(new RegExp(`^node "${node}" \\(\\w+\\): \\w+ `));
      expect(r.error, shown).toContain(`${shown} is outside the folders this studio may read`);
      expect(r.issues).toContainEqual(expect.objectContaining({ nodeId: node }));
    }
  });

  it('reads uploads, bundled resources and folders allowed at launch', async () => {
    const { ref } = (await c.call('images.upload', { name: 'mine.png', base64: b64(encodePng(image(32))) })).result as { ref: string };
    for (const source of [ref, join(allowed, 'ok.png'), 'sample:camera', 'model:fmnist-32/heldout/03.png']) {
      expect((await start({ doc: withParams('image', { source }) })).error, source).toBeUndefined();
    }
    expect((await start({ doc: ddiff, measurement: { kind: 'simulate', image: ref } })).ok).toBe(true);
    expect((await start({ doc: withParams('prior', { source: 'bundled', model: 'fmnist-32' }) })).ok).toBe(true);
    expect((await start({ doc: withParams('prior', { source: 'onnx', model: join(MODELS_DIR, 'fmnist-32') }) })).ok).toBe(true);
  });

  it('does not leak whether a refused path exists', async () => {
    const a = await start({ doc: withParams('image', { source: secret }) });
    const b = await start({ doc: withParams('image', { source: join(outside, 'missing.png') }) });
    expect(b.error).toBe(a.error!.replace('secret.png', 'missing.png'));
    expect(existsSync(join(outside, 'missing.png'))).toBe(false);
  });
});

describe('a measurement bundle made with an ONNX operator folder', () => {
  it('runs when the folder its task.json names is inside the allowed folders, and is refused naming it otherwise', async () => {
    const c = await connect();
    const ddiff = (await c.call('presets.get', { name: 'ddiff' })).result;
    // The same bundle twice, in an allowed folder: its operator folder allowed, then outside.
    const opIn = writeConvOperator(join(allowed, 'op'));
    const opOut = writeConvOperator(join(outside, 'op'));
    const m = simulate({ task: 'onnx-operator', params: { path: opIn }, image: image(32), seed: 1, noise: { kind: 'gaussian', sigma: 0.05 } });
    const bundleIn = join(allowed, 'bundle-in'),
      bundleOut = join(allowed, 'bundle-out');
    writeMeasurement(bundleIn, m);
    writeMeasurement(bundleOut, m);
    const record = JSON.parse(readFileSync(join(bundleOut, 'task.json'), 'utf8')) as { params: { path: string } };
    record.params.path = opOut;
    writeFileSync(join(bundleOut, 'task.json'), JSON.stringify(record));

    const refused = await c.call('run.start', { doc: ddiff, measurement: { kind: 'bundle', path: bundleOut }, iterations: 2 });
    expect(refused.error).toBe(
      `node "measure" (MeasurementInput): ${join(bundleOut, 'task.json')} names the ONNX operator folder ${opOut}, which is outside the folders this studio may read (uploads, the bundled resources, your models folder, ${allowed}); upload the file, or start the studio with --allow <folder>`,
    );
    expect(refused.issues).toContainEqual(expect.objectContaining({ nodeId: 'measure', path: expect.stringMatching(/^nodes\[\d+\]\.params\.path$/) as unknown }));

    const ran = await c.call('run.start', { doc: ddiff, measurement: { kind: 'bundle', path: bundleIn }, iterations: 2 });
    expect(ran.error).toBeUndefined();
    const events = await c.events((ran.result as { runId: string }).runId);
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(events.find((e) => e.type === 'inputs')).toMatchObject({ task: 'onnx-operator' });
  }, 60_000);
});

describe('the list of parameters that name files', () => {
  /** Parameters that hold text but never a path (labels and names). */
  const NOT_PATHS = new Set(['State.name', 'Preview.label', 'Output.name']);
  type Def = { type: string; innerType?: { _zod: { def: Def } } };
  const innerType = (schema: unknown): string => {
    let d = (schema as { _zod: { def: Def } })._zod.def;
    while (d.innerType && ['optional', 'default', 'nullable', 'prefault'].includes(d.type)) d = d.innerType._zod.def;
    return d.type;
  };

  it('covers every string parameter of every node kind that is not a label', () => {
    // A new kind with a path parameter must be added to FILE_PARAMS, or runs could read anything.
    const strings = nodeKinds().flatMap((k) =>
      Object.entries((k.params as unknown as { shape: Record<string, unknown> }).shape)
        .filter(([, schema]) => innerType(schema) === 'string')
        .map(([param]) => `${k.kind}.${param}`),
    );
    expect(strings.length).toBeGreaterThan(5);
    for (const key of strings) {
      const [kind, param] = key.split('.') as [string, string];
      expect(FILE_PARAMS[kind]?.[param] !== undefined || NOT_PATHS.has(key), key).toBe(true);
    }
  });
});

describe('runs per connection', () => {
  it('runs at most two graphs at a time on one connection, with a clear error', async () => {
    const c = await connect();
    const doc = (await c.call('presets.get', { name: 'ddiff' })).result;
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(((await c.call('run.start', { doc, iterations: 1000 })).result as { runId: string }).runId);
    const third = await c.call('run.start', { doc, iterations: 1000 });
    expect(third.error).toMatch(/^run\.start: this connection already runs 2 graphs \(at most 2 at a time\); cancel one or wait/);
    await c.call('run.cancel', { runId: ids[0] });
    expect((await c.events(ids[0]!)).at(-1)?.type).toBe('cancelled');
    const again = await c.call('run.start', { doc, iterations: 1000 });
    expect(again.ok).toBe(true);
    ids.push((again.result as { runId: string }).runId);
    for (const runId of ids.slice(1)) {
      await c.call('run.cancel', { runId });
      await c.events(runId);
    }
  });
});
