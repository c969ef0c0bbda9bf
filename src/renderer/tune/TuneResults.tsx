/**
 * The search as it runs and once it is over: phase and progress, the trial table as trials
 * finish (parameters, rung scores), a parameter-vs-score scatter, and the best with its
 * validation and test scores next to the graph's own values — with "Apply best" (ordinary,
 * undoable parameter edits) and "Save as preset" (the best as the task's override).
 */
import { useState } from 'react';
import type { WirePoint, WireSplitScores, WireTuneResult } from '../../protocol/tune';
import { useHost } from '../host/context';
import { operatorNode, operatorTask } from '../editor/actions';
import { useUi } from '../editor/ui';
import { useDocument } from '../state/document';
import { button } from '../run/style';
import { applyPoint, saveTuned } from './actions';
import { RUNG_COLORS, Scatter } from './Scatter';
import { plannedEvaluations, useTune } from './state';
import type { TuneRun } from './state';

const fmt = (v: unknown): string => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : JSON.stringify(v));
const mean = (v: number[] | undefined): number | undefined => (v?.length ? v.reduce((s, x) => s + x, 0) / v.length : undefined);
const scoreText = (v: number | null | undefined, digits = 3): string => (v === undefined ? '' : v === null ? 'failed' : v.toFixed(digits));
const pointText = (p: WirePoint): string =>
  Object.entries(p)
    .flatMap(([n, ps]) => Object.entries(ps).map(([k, v]) => `${n}.${k} = ${fmt(v)}`))
    .join(', ');

function Trials({ run }: { run: TuneRun }): React.JSX.Element {
  const best = run.result?.best;
  const byTrial = new Map<number, Map<number, number | null>>();
  for (const s of run.scores) byTrial.set(s.trial, (byTrial.get(s.trial) ?? new Map()).set(s.rung, s.score));
  const rows = run.trials.filter((t) => byTrial.has(t.id));
  return (
    <div className="max-h-56 overflow-auto rounded-md border border-slate-200 dark:border-slate-700">
      <table className="w-full text-right font-mono text-[11px]" data-testid="tune-trials">
        <thead className="sticky top-0 bg-slate-50 text-slate-500 dark:bg-slate-800">
          <tr>
            <th className="px-1 text-left">#</th>
            {run.ranges.map((r) => (
              <th key={`${r.node}.${r.param}`} className="px-1">
                {r.node}.{r.param}
              </th>
            ))}
            {run.rungs.map((g) => (
              <th key={g.index} className="px-1" style={{ color: RUNG_COLORS[g.index % RUNG_COLORS.length] }} title={`K ${g.iterations}, ${g.images} validation image(s)`}>
                rung {g.index}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.id} className={t.id === best ? 'bg-emerald-50 font-semibold dark:bg-emerald-950' : ''} data-testid={`tune-trial-${t.id}`}>
              <td className="px-1 text-left">{t.id === 0 ? '0 (own)' : t.id}</td>
              {run.ranges.map((r) => (
                <td key={`${r.node}.${r.param}`} className="px-1">
                  {fmt(t.point[r.node]?.[r.param])}
                </td>
              ))}
              {run.rungs.map((g) => (
                <td key={g.index} className="px-1">
                  {scoreText(byTrial.get(t.id)?.get(g.index))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Best({ result }: { result: WireTuneResult }): React.JSX.Element {
  const { files } = useHost();
  const notify = useUi((s) => s.notify);
  const doc = useDocument((s) => s.doc);
  const op = operatorNode(doc);
  const sameTask = op !== undefined && operatorTask(op.kind) === result.task;
  const best = result.trials[result.best]!;
  const row = (split: string, who: string, s: WireSplitScores): React.JSX.Element => (
    <tr key={`${split}-${who}`} data-testid={`tune-score-${split}-${who}`}>
      <td className="px-1 text-left">{split}</td>
      <td className="px-1 text-left">{who}</td>
      <td className="px-1">{scoreText(mean(s.psnr), 2)}</td>
      <td className="px-1">{scoreText(mean(s.ssim))}</td>
      <td className="px-1">{scoreText(mean(s.residual))}</td>
      {result.objective === 'lpips' && <td className="px-1">{scoreText(mean(s.lpips))}</td>}
    </tr>
  );
  const apply = (): void => {
    applyPoint(best.point);
    notify({ tone: 'success', text: `Applied trial ${best.id}: ${pointText(best.point)} (Undo reverts)` });
  };
  const save = (): void =>
    void saveTuned(files, result.tuned).then(
      (where) => where && notify({ tone: 'success', text: `Saved ${where}` }),
      (e: Error) => notify({ tone: 'error', text: e.message }),
    );
  return (
    <section className="space-y-2 rounded-md border border-emerald-200 p-2 dark:border-emerald-900" data-testid="tune-best" data-trial={result.best}>
      <p>
        <span className="font-semibold">{result.best === 0 ? 'The graph’s own values stay best' : `Best: trial ${result.best}`}</span>{' '}
        <span className="font-mono text-[12px]" data-testid="tune-best-point">
          {pointText(best.point)}
        </span>
      </p>
      <table className="w-full text-right font-mono text-[11px]">
        <thead className="text-slate-500">
          <tr>
            <th className="px-1 text-left">split</th>
            <th className="px-1 text-left">values</th>
            <th className="px-1">PSNR</th>
            <th className="px-1">SSIM</th>
            <th className="px-1">residual</th>
            {result.objective === 'lpips' && <th className="px-1">LPIPS</th>}
          </tr>
        </thead>
        <tbody>
          {row('validation', 'own', result.val.defaults)}
          {row('validation', 'best', result.val.best)}
          {row('test', 'own', result.test.defaults)}
          {row('test', 'best', result.test.best)}
        </tbody>
      </table>
      <p className="text-[11px] text-slate-400">
        means over {result.test.best.psnr.length} test and {result.val.best.psnr.length} validation image(s) at the full K · {result.nfe.toLocaleString('en-US')} NFE · report in{' '}
        {result.folder}
      </p>
      {result.failures.length > 0 && (
        <p className="text-[11px] text-amber-700">
          {result.failures.length} failed row(s): {result.failures[0]}
        </p>
      )}
      <div className="flex gap-2">
        <button
          className="flex-1 rounded-md bg-emerald-600 px-3 py-1 font-semibold text-white hover:bg-emerald-700 disabled:opacity-40"
          disabled={!sameTask || result.best === 0}
          onClick={apply}
          title={
            !sameTask
              ? `The graph’s task is no longer ${result.task}`
              : result.best === 0
                ? 'The graph already has the best values'
                : 'Write the best values into the graph (Undo reverts)'
          }
          data-testid="tune-apply"
        >
          Apply best
        </button>
        <button className={button} onClick={save} title="A preset file with the best values as this task’s override" data-testid="tune-save">
          Save as preset
        </button>
      </div>
    </section>
  );
}

export function TuneResults(): React.JSX.Element | null {
  const run = useTune((s) => s.run);
  const [axis, setAxis] = useState(0);
  if (!run) return null;
  const total = plannedEvaluations(run);
  const range = run.ranges[Math.min(axis, run.ranges.length - 1)];
  const own = range && run.trials[0]?.point[range.node]?.[range.param];
  return (
    <div className="space-y-2" data-testid="tune-run" data-status={run.status}>
      <div>
        <p className="text-[12px]" data-testid="tune-phase">
          {run.status === 'error' ? (
            <span className="text-red-600">{run.error}</span>
          ) : run.status === 'cancelled' ? (
            'Cancelled; the finished rows are kept, so the same search resumes from them.'
          ) : run.status === 'done' ? (
            `Done: ${run.trials.length} trials on ${run.task}.`
          ) : (
            `${run.phase?.phase ?? 'starting'}: ${run.phase?.detail ?? ''}`
          )}
        </p>
        {total > 0 && (
          <div className="mt-1 h-1.5 overflow-hidden rounded bg-slate-100 dark:bg-slate-800" title={`${run.scores.length}/${total} evaluations`}>
            <div
              className="h-full bg-sky-500"
              style={{ width: `${(100 * run.scores.length) / total}%` }}
              data-testid="tune-progress"
              data-done={run.scores.length}
              data-of={total}
            />
          </div>
        )}
      </div>
      {run.scores.length > 0 && <Trials run={run} />}
      {range && run.scores.length > 0 && (
        <div>
          {run.ranges.length > 1 && (
            <select
              className="mb-1 rounded border border-slate-200 px-1 text-[12px] dark:border-slate-700 dark:bg-slate-900"
              value={axis}
              onChange={(e) => setAxis(Number(e.target.value))}
              data-testid="tune-axis"
            >
              {run.ranges.map((r, i) => (
                <option key={i} value={i}>
                  {r.node}.{r.param}
                </option>
              ))}
            </select>
          )}
          <Scatter
            range={range}
            scores={run.scores}
            rungs={run.rungs.length}
            own={own}
            yLabel={run.objective}
            width={400}
            height={180}
            {...(run.result ? { best: run.result.best } : {})}
          />
        </div>
      )}
      {run.result && <Best result={run.result} />}
    </div>
  );
}
