/**
 * The problems list: the engine's errors and warnings for the graph, the last run's error while it
 * still applies (on its node, or graph-level), and an empty graph / missing Output; a click selects
 * the node.
 */
import { useReactFlow } from '@xyflow/react';
import { useMemo } from 'react';
import type { WireIssue } from '../../protocol/messages';
import { useDocument } from '../state/document';
import { asIssue, graphProblems, standing } from '../state/problems';
import { useRun } from '../state/run';
import { useValidation } from '../state/validation';

/** Every problem of the current document, from validation, the last run and the studio's own checks. */
export function useProblems(): { errors: WireIssue[]; warnings: WireIssue[]; unavailable?: string } {
  const { errors, warnings, unavailable } = useValidation();
  const doc = useDocument((s) => s.doc);
  const problem = useRun((s) => s.problem);
  return useMemo(() => {
    const graph = graphProblems(doc);
    const run = standing(problem, doc);
    return { errors: [...errors, ...graph.errors, ...(run ? [asIssue(run)] : [])], warnings: [...warnings, ...graph.warnings], ...(unavailable ? { unavailable } : {}) };
  }, [errors, warnings, unavailable, doc, problem]);
}

export function Problems(): React.JSX.Element {
  const { errors, warnings, unavailable } = useProblems();
  const flow = useReactFlow();
  const focus = (id?: string): void => {
    if (!id) return;
    flow.setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
    const n = flow.getNode(id);
    if (n) void flow.setCenter(n.position.x + 90, n.position.y + 60, { zoom: 1.1, duration: 300 });
  };
  const all = [...errors.map((e) => ({ ...e, tone: 'error' as const })), ...warnings.map((e) => ({ ...e, tone: 'warning' as const }))];
  return (
    <div className="h-full overflow-auto" data-testid="problems">
      <div className="sticky top-0 flex items-center gap-3 border-b border-slate-200 bg-white px-3 py-1.5 text-[11px] font-semibold tracking-wider text-slate-500 uppercase dark:border-slate-800 dark:bg-slate-900">
        Problems
        <span className={errors.length ? 'text-red-600' : 'text-emerald-600'}>{errors.length ? `${errors.length} error${errors.length > 1 ? 's' : ''}` : 'graph is valid'}</span>
        {warnings.length > 0 && (
          <span className="text-amber-600">
            {warnings.length} warning{warnings.length > 1 ? 's' : ''}
          </span>
        )}
        {unavailable && <span className="text-red-600 normal-case">{unavailable}</span>}
      </div>
      <ul>
        {all.map((p, i) => (
          <li key={i} data-node={p.nodeId} data-path={p.path}>
            <button className="flex w-full gap-2 px-3 py-1 text-left hover:bg-slate-50 dark:hover:bg-slate-800" onClick={() => focus(p.nodeId)} data-testid="problem">
              <span className={p.tone === 'error' ? 'text-red-600' : 'text-amber-600'}>{p.tone === 'error' ? '●' : '▲'}</span>
              <span className="font-mono text-[11px] text-slate-400">{p.nodeId ?? p.path}</span>
              <span>{p.message}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
