/**
 * The tuner's results and progress as the studio receives them (src/protocol/tune.ts): plain
 * JSON, with NaN scores (a failed row) as null, since JSON has no NaN.
 */
import type { WireRung, WireTrial, WireTuneEvent, WireTuneRange, WireTuneResult } from '../../protocol/tune';
import type { WireGraph } from '../../protocol/messages';
import type { Rung } from './halving';
import type { ParamRange } from './space';
import type { Trial, TuneOptions, TuneResult } from './tune';

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** A range as `--param` text: `x.lambda=0.1:10:log`, `noise.eta=0,0.5,1`. */
export function rangeFlag(r: WireTuneRange): string {
  const text = r.kind === 'list' ? r.values.map(String).join(',') : `${r.lo}:${r.hi}${r.kind === 'log' ? ':log' : ''}`;
  return `${r.node}.${r.param}=${text}`;
}

const wireRange = (r: ParamRange): WireTuneRange =>
  r.kind === 'list'
    ? { node: r.node, param: r.param, kind: 'list', values: r.values as (string | number | boolean)[] }
    : { node: r.node, param: r.param, kind: r.kind, lo: r.lo, hi: r.hi };

const wireRung = (r: Rung): WireRung => ({ index: r.index, trials: r.trials, iterations: r.iterations, images: r.images });

/** A trial with its NaN scores as null. */
export function wireTrial(t: Trial): WireTrial {
  return { id: t.id, point: t.point, scores: Object.fromEntries(Object.entries(t.scores).map(([k, v]) => [k, finite(v)])), ...(t.error ? { error: t.error } : {}) };
}

/** The result of {@link runTune} for the studio; `folder` is where its files were written. */
export function wireTuneResult(res: TuneResult, folder: string): WireTuneResult {
  return {
    objective: res.spec.objective,
    task: res.spec.task,
    ranges: res.ranges.map(wireRange),
    rungs: res.rungs.map(wireRung),
    trials: res.trials.map(wireTrial),
    best: res.best,
    val: res.val,
    test: res.test,
    nfe: res.nfe,
    failures: res.failures.map((f) => `${f.image} seed ${f.seed}: ${f.error}`),
    tuned: res.tuned as WireGraph,
    folder,
  };
}

/** {@link TuneOptions} callbacks that turn a search's progress into studio events. */
export function tuneEvents(send: (e: WireTuneEvent) => void): Pick<TuneOptions, 'onProgress' | 'onPlan' | 'onTest'> {
  return {
    onPlan: ({ rungs, trials, iterations }) => {
      send({ type: 'tune-plan', rungs: rungs.map(wireRung), trials: trials.map((t) => ({ id: t.id, point: t.point })), iterations });
      send({ type: 'tune-phase', phase: 'search', detail: `${trials.length} trials in ${rungs.length} rung${rungs.length === 1 ? '' : 's'}` });
    },
    onProgress: (e) => {
      if (e.type === 'rung') send({ type: 'tune-rung', rung: wireRung(e.rung) });
      else send({ type: 'tune-trial', rung: e.rung.index, trial: e.trial.id, point: e.trial.point, score: finite(e.score), ...(e.trial.error ? { error: e.trial.error } : {}) });
    },
    onTest: () => send({ type: 'tune-phase', phase: 'test', detail: 'the best and the graph’s own values on the test images' }),
  };
}
