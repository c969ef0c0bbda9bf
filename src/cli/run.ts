/**
 * `lagrange run <graph|preset>`: compile and run a solver graph, writing result.npy/png, a strip
 * of previews over the iterations, and report.json. Progress on a TTY, JSON-lines with --json.
 * The run happens in an engine worker thread (as in the studio), so progress and Ctrl-C stay
 * live while ONNX Runtime holds its thread for a network forward. Ctrl-C cancels the run: what it
 * got to is written, marked partial, and the command exits 130 (as a shell reports SIGINT).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CommanderError } from 'commander';
import { PNG } from 'pngjs';
import { inactiveTaskOverrides, withBackend, withMeasurement, withOperator, withPrior, withProvider, withValues } from '../engine/graph/edit';
import { checkSet, parseSetFlags } from '../engine/graph/set';
import { PROVIDER_ORDER } from '../engine/priors/onnxPrior';
import type { GraphDocument } from '../engine/graph/format';
import { parseGraph } from '../engine/graph/format';
import { listPresets, presetFile } from '../engine/graph/presets';
import type { PresetInfo } from '../engine/graph/presets';
import { encodePng } from '../engine/io/image';
import type { WireReport } from '../protocol/messages';
import { resultPngText, withPngText } from '../protocol/pngText';
import { writeNpy } from '../engine/io/npy';
import type { RunEvent } from '../engine/runtime/events';
import { runInWorker } from '../engine/runtime/worker/client';
import type { RunInputs } from '../engine/runtime/worker/client';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over. */
export interface RunArgs {
  measurement?: string;
  task?: string;
  /** An ONNX operator folder replacing the graph's simulated operator (`withOperator`). */
  operator?: string;
  image?: string;
  size?: string;
  sigma?: string;
  prior?: string;
  provider?: string;
  iterations?: string;
  seed?: string;
  samples?: string;
  profile?: string;
  /** `node.param=value` flags; they win over the graph's task and profile overrides. */
  set?: string[];
  /** Iteration backend: js or onnx (`engine/runtime/backend.ts`: fused where it can, else node by node); absent: the graph's `run.backend`, else js. */
  backend?: string;
  out: string;
  json?: boolean;
}

/**
 * Ends a command that was interrupted after it wrote its partial output: exit status 130. A
 * CommanderError, because main() returns such an error's exitCode without printing it again;
 * the command has already said what it wrote and that it is partial.
 */
export class InterruptedError extends CommanderError {
  constructor(message: string) {
    super(130, 'lagrange.interrupted', message);
    this.name = 'InterruptedError';
  }
}

/** Preset names and the first sentence of their descriptions. */
export function presetSummaries(): PresetInfo[] {
  return listPresets().map((p) => ({ ...p, description: p.description.split(/(?<=\.)\s/)[0]! }));
}

function loadGraph(target: string): GraphDocument {
  const file = existsSync(target) ? target : presetFile(target);
  if (!file)
    throw new CliError(
      `${target}: no such graph file or preset; presets: ${listPresets()
        .map((p) => p.name)
        .join(', ')}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseGraph(json, file);
}

/** Horizontal strip of RGBA previews (sample 0), 2 px gaps. */
function strip(frames: { width: number; height: number; rgba: Uint8ClampedArray }[]): Buffer {
  const h = Math.max(...frames.map((f) => f.height));
  const w = frames.reduce((s, f) => s + f.width + 2, -2);
  const png = new PNG({ width: w, height: h });
  png.data.fill(255);
  let x0 = 0;
  for (const f of frames) {
    for (let r = 0; r < f.height; r++) png.data.set(f.rgba.subarray(4 * r * f.width, 4 * (r + 1) * f.width), 4 * (r * w + x0));
    x0 += f.width + 2;
  }
  return PNG.sync.write(png);
}

/**
 * Runs the command; `out` prints lines, `err` progress. Returns the summary lines.
 * @throws InterruptedError (exit 130) after Ctrl-C, once the partial output is written and the
 *   summary printed
 */
export async function runGraph(target: string, args: RunArgs, io: { out(l: string): void; err(l: string): void; tty: boolean }): Promise<string[]> {
  if (args.backend !== undefined && args.backend !== 'js' && args.backend !== 'onnx') throw new CliError(`--backend must be js or onnx; got '${args.backend}'`);
  let doc = loadGraph(target);
  // An explicit flag wins over the document's choice, as --iterations and --seed do.
  const backend = (args.backend as 'js' | 'onnx' | undefined) ?? doc.run.backend ?? 'js';
  // The prior first: a learned prior clears image sizes, which an explicit --size then sets.
  if (args.prior) doc = withPrior(doc, args.prior, existsSync(args.prior));
  if (args.provider) {
    if (!(['auto', ...PROVIDER_ORDER] as string[]).includes(args.provider)) throw new CliError(`--provider must be auto, ${PROVIDER_ORDER.join(', ')}; got '${args.provider}'`);
    doc = withProvider(doc, args.provider);
  }
  if (args.measurement && (args.task || args.image)) throw new CliError('give either --measurement or --task/--image, not both');
  if (args.measurement) doc = withMeasurement(doc, { kind: 'bundle', path: args.measurement });
  else if (args.task || args.image || args.sigma || args.size) {
    if (args.image && !/^(sample|model):/.test(args.image) && !existsSync(args.image)) throw new CliError(`--image ${args.image}: no such file`);
    doc = withMeasurement(doc, {
      kind: 'simulate',
      ...(args.task ? { task: args.task } : {}),
      ...(args.image ? { image: args.image } : {}),
      ...(args.size ? { size: intOption('--size', args.size, 8) } : {}),
      ...(args.sigma ? { sigma: numberOption('--sigma', args.sigma, (v) => (v < 0 ? 'must be ≥ 0' : undefined)) } : {}),
    });
  }
  const notes: string[] = []; // what the command changed about the graph, added to the run's notes
  if (args.operator) {
    if (args.measurement) throw new CliError('give either --measurement or --operator: a measurement bundle fixes its operator');
    if (args.task) throw new CliError('give either --task or --operator, not both');
    if (!existsSync(args.operator)) throw new CliError(`--operator ${args.operator}: no such folder`);
    const inactive = inactiveTaskOverrides(doc, 'onnx-operator');
    doc = withOperator(doc, resolve(args.operator));
    notes.push(
      `operator: OnnxOperator on ${resolve(args.operator)} in place of the graph's operator node${inactive.length ? `; the graph's task overrides (${inactive.join(', ')}) do not apply` : ''}`,
    );
  }
  doc = withBackend(doc, backend);
  const set = args.set?.length ? parseSetFlags(args.set) : undefined;
  if (set) checkSet(doc, set);
  const options = {
    ...(set ? { set } : {}),
    ...(args.iterations ? { iterations: intOption('--iterations', args.iterations, 1) } : {}),
    ...(args.seed ? { seed: intOption('--seed', args.seed, 0) } : {}),
    ...(args.samples ? { samples: intOption('--samples', args.samples, 1) } : {}),
    ...(args.profile ? { profile: args.profile } : {}),
  };
  const stripNode = doc.nodes.find((n) => n.kind === 'Preview')?.id; // the compiled plan's first preview
  const frames: { width: number; height: number; rgba: Uint8ClampedArray }[] = [];
  let stoppedAt: number | undefined; // iterations done when cancelled
  const onEvent = (e: RunEvent): void => {
    if (e.type === 'cancelled') stoppedAt = e.iteration;
    if (e.type === 'preview' && e.nodeId === stripNode) frames.push(e);
    if (args.json) {
      if (e.type === 'preview') {
        const { rgba: _pixels, ...rest } = e;
        io.out(JSON.stringify(rest));
      } else io.out(JSON.stringify(e));
    } else if (io.tty && e.type === 'progress') {
      const w = 30,
        done = Math.round((w * e.iteration) / e.of);
      io.err(`\r[${'#'.repeat(done)}${'.'.repeat(w - done)}] ${e.iteration}/${e.of}  NFE ${e.nfe}  ${(e.elapsedMs / 1000).toFixed(1)} s`);
    }
  };
  let inputs: RunInputs | undefined;
  const abort = new AbortController();
  const cancel = (): void => abort.abort();
  process.once('SIGINT', cancel);
  let r: Awaited<ReturnType<typeof runInWorker>>;
  try {
    r = await runInWorker(doc, options, { onEvent, onInputs: (m) => (inputs = m), signal: abort.signal, throttleMs: args.json ? 0 : 100 });
  } finally {
    process.off('SIGINT', cancel);
  }
  if (io.tty && !args.json) io.err('\n');
  if (notes.length) r = { ...r, report: { ...r.report, warnings: [...notes, ...r.report.warnings] } };
  mkdirSync(args.out, { recursive: true });
  const files = ['report.json', 'graph.lagrange.json'];
  const report = { ...r.report, status: r.status, task: inputs?.task, sigmaY: inputs?.sigma };
  writeFileSync(join(args.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  // The graph as it ran: per-run values written where they took effect, so it re-runs to the same numbers.
  const ran = withValues(doc, set, {
    ...(inputs ? { task: inputs.task } : {}),
    ...(args.profile ? { profile: args.profile } : doc.run.profile ? { profile: doc.run.profile } : {}),
  });
  writeFileSync(join(args.out, 'graph.lagrange.json'), JSON.stringify(ran, null, 2) + '\n');
  if (r.result) {
    writeNpy(join(args.out, 'result.npy'), r.result);
    // It carries the graph, settings and metrics (PNG text chunks): dropped on the studio, it opens the graph.
    writeFileSync(join(args.out, 'result.png'), withPngText(encodePng(r.result), resultPngText(ran, report as WireReport)));
    files.push('result.npy', 'result.png');
  }
  if (frames.length) {
    writeFileSync(join(args.out, 'previews.png'), strip(frames));
    files.push('previews.png');
  }
  const m = r.report.metrics;
  const fmt = (v: number[] | undefined, d = 3): string => (v ? v.map((x) => x.toFixed(d)).join(', ') : 'n/a');
  const done = stoppedAt ?? '?';
  const lines = [
    ...(r.status === 'cancelled'
      ? [`interrupted (Ctrl-C) after ${done} of ${r.report.iterations} iterations, ${r.report.nfe} NFE: the output is partial; report.json has status "cancelled"`]
      : []),
    `${r.report.graph} on ${inputs?.task}: ${r.report.iterations} iterations, ${r.report.nfe} NFE${callsText(r.report.calls)}, ${(r.report.wallMs / 1000).toFixed(2)} s (${(r.report.secondsPerNfe * 1000).toFixed(2)} ms/NFE, ${r.report.nfe > 0 && r.report.scoreModelMs === 0 ? 'network inside the fused iteration' : `score model ${((100 * r.report.scoreModelMs) / r.report.wallMs).toFixed(0)} %`}), ${r.report.provider}${backend === 'onnx' ? ', backend onnx' : ''}, seed ${r.report.seed}`,
    ...(m
      ? [`PSNR ${fmt(m.psnr, 2)} dB  SSIM ${fmt(m.ssim)}${m.lpips ? `  LPIPS ${fmt(m.lpips)}` : ''}  residual ${fmt(m.residual)}  residual/σ ${fmt(m.normalisedResidual, 2)}`]
      : []),
    ...r.report.warnings.map((w) => `note: ${w}`),
    `wrote ${args.out}: ${files.join(' ')}`,
  ];
  if (r.status !== 'cancelled') return lines;
  if (!args.json) lines.forEach((l) => io.out(l));
  io.err(`lagrange: interrupted: ${args.out} holds a partial run (${done} of ${r.report.iterations} iterations)\n`);
  throw new InterruptedError('interrupted');
}

/** Other networks' evaluations for the summary line (e.g. ` + 1000 decoder VJPs, 1001 decoder`); empty when there were none. */
function callsText(calls: Record<string, number> | undefined): string {
  const names: Record<string, string> = { decoderVjp: 'decoder VJPs', decoder: 'decoder forwards', encoder: 'encoder forwards' };
  const order = (k: string): number => (k in names ? Object.keys(names).indexOf(k) : 99);
  const parts = Object.entries(calls ?? {})
    .sort(([a], [b]) => order(a) - order(b))
    .map(([k, n]) => `${n} ${names[k] ?? k}`);
  return parts.length ? ` + ${parts.join(', ')}` : '';
}
