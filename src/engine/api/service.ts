/**
 * The engine API the studio hosts expose (browser-mode WebSocket, desktop IPC): one object that
 * answers the protocol's methods and streams run events. Hosts only move messages; every request
 * is validated here with the protocol's schemas, runs execute in worker threads, and finished runs
 * are kept (a bounded number) so they can be exported as bundles.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { Method, Params, Results, WireIssue, WireRunEvent } from '../../protocol/messages';
import { ProtocolError, parseRequest } from '../../protocol/messages';
import { nodeCatalog } from './catalog';
import type { GraphChecks } from './checkPool';
import { inlineChecks } from './checkPool';
import { RequestError } from './errors';
import type { TuneHost } from './tune';
import { TuneSessions } from './tune';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { PRESETS_DIR, listPresets, presetFile } from '../graph/presets';
import { encodePng } from '../io/image';
import { encodeNpy } from '../io/npy';
import { MODELS_DIR, sampleNames } from '../io/prepare';
import { listModels } from '../priors/catalog';
import { loadPlugins } from '../plugin/load';
import type { RunReport } from '../runtime/events';
import type { RunInputs } from '../runtime/worker/client';
import { runInWorker } from '../runtime/worker/client';
import type { Tensor } from '../tensor/tensor';
import { toFrame, toRgba } from '../io/frames';

/** Options of {@link EngineService}. */
export interface ServiceOptions {
  presetsDir?: string;
  /** Where uploaded images are stored (default `~/.lagrange/uploads`). */
  uploadsDir?: string;
  /** Finished runs kept for export (oldest dropped first). */
  keepRuns?: number;
  /**
   * Where graphs are parsed and validated (`graph.parse`, `graph.validate`, `run.start`): the
   * calling thread by default; hosts pass a {@link CheckPool} so large graphs are checked off
   * their event loop.
   */
  checks?: GraphChecks;
  /**
   * The host's check of the files a run would read, on the parsed document with its measurement
   * applied, before the graph's own validation (browser mode: src/server/fileAccess.ts). Issues
   * refuse the run.
   */
  checkReads?: (doc: GraphDocument) => WireIssue[];
  /** Where `tune.*` searches go and how their events reach the page; without it `tune.start` is refused. */
  tune?: TuneHost;
}

interface RunRecord {
  doc: GraphDocument;
  abort: AbortController;
  finished: boolean;
  inputs?: RunInputs;
  result?: Tensor;
  report?: RunReport;
}

const dataUrl = (bytes: Uint8Array): string => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;

/** Answers protocol requests; `emit` receives every run event of runs started through it. */
export class EngineService {
  private readonly runs = new Map<string, RunRecord>();
  private nextRun = 1;
  private readonly presetsDir: string;
  private readonly uploadsDir: string;
  private readonly checks: GraphChecks;
  private readonly tunes?: TuneSessions;

  constructor(
    private readonly emit: (runId: string, event: WireRunEvent) => void,
    private readonly opts: ServiceOptions = {},
  ) {
    this.presetsDir = opts.presetsDir ?? PRESETS_DIR;
    this.uploadsDir = opts.uploadsDir ?? join(homedir(), '.lagrange', 'uploads');
    this.checks = opts.checks ?? inlineChecks;
    if (opts.tune) this.tunes = new TuneSessions(opts.tune);
  }

  /** Validates and answers one request. @throws ProtocolError or RequestError with a message for the user */
  async handle(method: string, params: unknown): Promise<unknown> {
    const req = parseRequest(method, params);
    await loadPlugins(); // once per process (again only when LAGRANGE_PLUGINS changes): graphs may use plugin kinds
    return this.dispatch(req.method, req.params);
  }

  private async dispatch(method: Method, p: Params<Method>): Promise<unknown> {
    switch (method) {
      case 'presets.list':
        return this.presets();
      case 'presets.get': {
        const { name } = p as Params<'presets.get'>;
        const f = presetFile(name, this.presetsDir);
        if (!f)
          throw new RequestError(
            `no preset '${name}'; presets: ${listPresets(this.presetsDir)
              .map((x) => x.name)
              .join(', ')}`,
          );
        return parseGraph(JSON.parse(readFileSync(f, 'utf8')), f);
      }
      case 'graph.parse': {
        const { text, source } = p as Params<'graph.parse'>;
        return this.checks.check({ type: 'parse', text, ...(source !== undefined ? { source } : {}) });
      }
      case 'graph.validate':
        return this.checks.check({ type: 'validate', doc: (p as Params<'graph.validate'>).doc });
      case 'models.list':
        return listModels()
          .filter((m) => m.card)
          .map((m) => ({ name: m.name, title: m.card!.description, shape: [m.card!.image.channels, m.card!.image.height, m.card!.image.width], origin: m.origin }));
      case 'nodes.catalog':
        return nodeCatalog(); // with this process's plugin report
      case 'images.list':
        return this.images();
      case 'images.upload':
        return this.upload(p as Params<'images.upload'>);
      case 'run.start':
        return this.start(p as Params<'run.start'>);
      case 'run.cancel': {
        const r = this.runs.get((p as Params<'run.cancel'>).runId);
        if (!r) throw new RequestError(`no run '${(p as Params<'run.cancel'>).runId}'`);
        r.abort.abort();
        return { cancelled: !r.finished };
      }
      case 'run.export':
        return this.exportRun((p as Params<'run.export'>).runId);
      case 'tune.start':
        return this.startTune(p as Params<'tune.start'>);
      case 'tune.cancel':
        return this.tuneSessions().cancel((p as Params<'tune.cancel'>).tuneId);
    }
  }

  private presets(): Results['presets.list'] {
    return listPresets(this.presetsDir).map((x) => {
      const thumb = join(this.presetsDir, 'thumbs', `${x.name}.png`);
      return { ...x, ...(existsSync(thumb) ? { thumbnail: dataUrl(readFileSync(thumb)) } : {}) };
    });
  }

  private images(): Results['images.list'] {
    const out: Results['images.list'] = [];
    for (const m of listModels().filter((x) => x.origin === 'bundled')) {
      const dir = join(MODELS_DIR, m.name, 'heldout');
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)
        .filter((x) => x.endsWith('.png'))
        .sort()) {
        out.push({ ref: `model:${m.name}/heldout/${f}`, label: `${m.name} held-out ${basename(f, '.png')}`, thumbnail: dataUrl(readFileSync(join(dir, f))) });
      }
    }
    for (const s of sampleNames()) out.push({ ref: `sample:${s}`, label: s, thumbnail: '' });
    return out;
  }

  private upload({ name, base64 }: Params<'images.upload'>): Results['images.upload'] {
    const ext = extname(name).toLowerCase();
    if (ext !== '.png' && ext !== '.npy') throw new RequestError(`${name}: expected a .png or .npy file`);
    const bytes = Buffer.from(base64, 'base64');
    mkdirSync(this.uploadsDir, { recursive: true });
    const safe = basename(name).replace(/[^\w.-]/g, '_');
    const path = join(this.uploadsDir, `${Date.now().toString(36)}-${safe}`);
    writeFileSync(path, bytes);
    return { ref: path };
  }

  private async start(req: Params<'run.start'>): Promise<Results['run.start']> {
    const { doc: parsed, validation: checked } = await this.checks.check({ type: 'run', doc: req.doc, ...(req.measurement ? { measurement: req.measurement } : {}) });
    let doc = parsed;
    const refused = this.opts.checkReads?.(doc) ?? [];
    if (refused.length) throw new RequestError(refused.map((i) => i.message).join('; '), refused);
    if (!checked.ok) throw new RequestError(`graph "${doc.name}" is not valid: ${checked.errors.map((e) => e.message).join('; ')}`, checked.errors);
    if (req.seed !== undefined) doc = { ...doc, run: { ...doc.run, seed: req.seed } };
    const runId = String(this.nextRun++);
    const record: RunRecord = { doc, abort: new AbortController(), finished: false };
    this.runs.set(runId, record);
    this.forget();
    const send = (e: WireRunEvent): void => this.emit(runId, e);
    void (async () => {
      try {
        const r = await runInWorker(
          doc,
          { ...(req.iterations ? { iterations: req.iterations } : {}), ...(req.samples ? { samples: req.samples } : {}) },
          {
            signal: record.abort.signal,
            throttleMs: req.throttleMs ?? 100,
            onInputs: (m) => {
              record.inputs = m;
              send({ type: 'inputs', task: m.task, sigma: m.sigma, measurement: toFrame(toRgba(m.y, 'auto')), ...(m.truth ? { truth: toFrame(toRgba(m.truth)) } : {}) });
            },
            onEvent: (e) => {
              if (e.type === 'preview') send({ ...e, rgba: toFrame(e).rgba });
              else if (e.type === 'done') {
                record.report = e.report; // the result arrives with the worker's answer, just after
              } else send(e);
            },
          },
        );
        record.report = r.report;
        if (r.result) {
          record.result = r.result;
          send({ type: 'result', frame: toFrame(toRgba(r.result)) });
        }
        if (r.status === 'done') send({ type: 'done', report: r.report });
      } catch (e) {
        const err = e as Error & { nodeId?: string; iteration?: number };
        send({ type: 'error', message: err.message, ...(err.nodeId ? { nodeId: err.nodeId } : {}), ...(err.iteration !== undefined ? { iteration: err.iteration } : {}) });
      } finally {
        record.finished = true;
      }
    })();
    return { runId };
  }

  private tuneSessions(): TuneSessions {
    if (!this.tunes) throw new RequestError('this host does not run parameter searches (use lagrange tune)');
    return this.tunes;
  }

  /** A search of the graph on `task`, checked as a run on that task is (format, files, validation). */
  private async startTune(req: Params<'tune.start'>): Promise<Results['tune.start']> {
    const tunes = this.tuneSessions();
    const { doc, validation } = await this.checks.check({ type: 'run', doc: req.doc, measurement: { kind: 'simulate', task: req.task } });
    const refused = this.opts.checkReads?.(doc) ?? [];
    if (refused.length) throw new RequestError(refused.map((i) => i.message).join('; '), refused);
    if (!validation.ok) throw new RequestError(`graph "${doc.name}" is not valid: ${validation.errors.map((e) => e.message).join('; ')}`, validation.errors);
    return tunes.start(req, doc);
  }

  /** Cancels every unfinished run and search (the client went away). */
  dispose(): void {
    for (const r of this.runs.values()) if (!r.finished) r.abort.abort();
    this.tunes?.dispose();
  }

  /** Drops the oldest finished runs beyond the limit. */
  private forget(): void {
    const keep = this.opts.keepRuns ?? 20;
    const finished = [...this.runs].filter(([, r]) => r.finished);
    for (const [id] of finished.slice(0, Math.max(0, this.runs.size - keep))) this.runs.delete(id);
  }

  /** graph.lagrange.json, measurement (y.npy, truth.npy/png), result.npy/png and report.json, zipped. */
  private exportRun(runId: string): Results['run.export'] {
    const r = this.runs.get(runId);
    if (!r) throw new RequestError(`no run '${runId}' (runs are kept until 20 newer ones finish)`);
    if (!r.finished || !r.report) throw new RequestError(`run ${runId} has not finished yet`);
    const files: Record<string, Uint8Array> = {
      'graph.lagrange.json': strToU8(`${JSON.stringify(r.doc, null, 2)}\n`),
      'report.json': strToU8(`${JSON.stringify(r.report, null, 2)}\n`),
    };
    if (r.inputs) {
      files['measurement/task.json'] = strToU8(`${JSON.stringify({ task: r.inputs.task, sigma: r.inputs.sigma }, null, 2)}\n`);
      files['measurement/y.npy'] = encodeNpy(r.inputs.y);
      if (r.inputs.truth) {
        files['measurement/x.npy'] = encodeNpy(r.inputs.truth);
        files['measurement/x.png'] = encodePng(r.inputs.truth);
      }
    }
    if (r.result) {
      files['result.npy'] = encodeNpy(r.result);
      files['result.png'] = encodePng(r.result);
    }
    const fileName = `${r.doc.name}-run${runId}-seed${r.report.seed}.zip`;
    return { fileName, base64: Buffer.from(zipSync(files)).toString('base64') };
  }
}

export { ProtocolError, RequestError };
export { CheckPool } from './checkPool';
export type { CheckPoolOptions, GraphChecks } from './checkPool';

/** Plugin loading for hosts that import only this module (the desktop main process). */
export { loadPlugins, pluginReport } from '../plugin/load';
