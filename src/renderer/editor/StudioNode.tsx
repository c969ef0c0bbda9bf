/**
 * How a node looks on the canvas: title and id, typed ports with coloured handles and names,
 * a red ring and count when the engine reports problems, and a live picture on Preview nodes.
 * Everything shown comes in `data` (from the node catalogue), so a plugin's kind looks like any
 * other, and a node whose kind is unknown shows its stored ports and what is missing.
 */
import { Handle, Position } from '@xyflow/react';
import type { Node, NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { NodeCategory } from '../../nodes/index';
import type { CatalogPort } from '../../protocol/catalog';
import { shownRun, useRun } from '../state/run';
import { FrameCanvas } from '../ui/FrameCanvas';
import { CATEGORY_STYLE } from './categories';
import { portColor } from './ports';
import type { SummaryPart } from './summary';

/** Data the canvas hands each node. */
export type StudioNodeData = {
  kind: string;
  title: string;
  category: NodeCategory;
  doc: string;
  inputs: CatalogPort[];
  outputs: CatalogPort[];
  /** The plugin the kind comes from. */
  plugin?: string;
  /** Set when the engine does not know the kind: the plugin it needs, in a few words. */
  missing?: string;
  errors: string[];
  warnings: string[];
  summary: SummaryPart[];
  /** Outputs of a type no known kind takes as an input (nothing can be wired to them yet). */
  deadOutputs?: string[];
};
export type StudioFlowNode = Node<StudioNodeData, 'studio'>;

function PortRow({ port, side, dead }: { port: CatalogPort; side: 'in' | 'out'; dead?: boolean }): React.JSX.Element {
  const left = side === 'in';
  const unused = dead ? ` — no node takes ${/^[aeiou]/.test(port.type) ? 'an' : 'a'} ${port.type} input yet, so nothing can be wired here` : '';
  return (
    <div
      className={`relative flex items-center py-0.5 text-[11px] ${left ? 'justify-start pl-3' : 'justify-end pr-3'} ${dead ? 'opacity-40' : ''}`}
      title={`${port.name} (${port.type}${port.optional ? ', optional' : ''}): ${port.doc}${unused}`}
      data-dead={dead || undefined}
    >
      <Handle
        id={port.name}
        type={left ? 'target' : 'source'}
        position={left ? Position.Left : Position.Right}
        style={{ background: portColor(port.type) }}
        data-testid={`port-${side}-${port.name}`}
      />
      <span className={port.optional ? 'text-slate-400 italic' : 'text-slate-600 dark:text-slate-300'}>{port.name}</span>
    </div>
  );
}

function LivePreview({ id }: { id: string }): React.JSX.Element | null {
  const p = useRun((s) => shownRun(s)?.previews[id]);
  return (
    <div className="flex justify-center px-2 pb-2">
      <FrameCanvas frame={p?.frame} size={64} testId={`node-preview-${id}`} />
    </div>
  );
}

export const StudioNode = memo(function StudioNode({ id, data, selected }: NodeProps<StudioFlowNode>): React.JSX.Element {
  const style = CATEGORY_STYLE[data.category];
  const ring =
    data.errors.length || data.missing
      ? 'ring-2 ring-red-500'
      : selected
        ? 'ring-2 ring-sky-500'
        : data.warnings.length
          ? 'ring-2 ring-amber-400'
          : 'ring-1 ring-slate-300 dark:ring-slate-700';
  return (
    <div
      className={`w-max max-w-[22rem] min-w-44 rounded-lg bg-white shadow-sm dark:bg-slate-900 ${ring}`}
      data-testid={`node-${id}`}
      title={data.errors.join('\n') || `${id}: ${data.doc}`}
    >
      <div className={`flex items-center gap-1.5 rounded-t-lg px-2.5 py-1.5 ${style.header}`}>
        <span className="shrink-0 text-[12px] font-semibold whitespace-nowrap" data-testid={`node-title-${id}`}>
          {data.title}
        </span>
        {data.plugin && (
          <span className="shrink-0 rounded bg-white/60 px-1 text-[9px] font-medium tracking-wide uppercase opacity-80 dark:bg-black/30" title={`from plugin ${data.plugin}`}>
            {data.plugin}
          </span>
        )}
        {/* An id that only repeats the kind's name (a node added by hand) would just widen the node. */}
        <span className="ml-auto min-w-0 truncate font-mono text-[10px] opacity-70">{id !== data.kind.toLowerCase() && id}</span>
        {data.errors.length > 0 && (
          <span className="rounded-full bg-red-500 px-1.5 text-[10px] font-bold text-white" data-testid={`node-errors-${id}`}>
            {data.errors.length}
          </span>
        )}
      </div>
      {data.missing && (
        <p
          className="border-b border-red-100 bg-red-50 px-2.5 py-1 text-[10px] leading-snug text-red-700 dark:border-red-900 dark:bg-red-950 dark:text-red-300"
          data-testid={`node-missing-${id}`}
        >
          {data.missing}
        </p>
      )}
      {data.summary.length > 0 && (
        <div
          className="truncate border-b border-slate-100 px-2.5 py-1 font-mono text-[10px] text-slate-500 dark:border-slate-800 dark:text-slate-400"
          data-testid={`node-summary-${id}`}
        >
          {data.summary.map((p, i) => (
            <span key={p.text}>
              {i > 0 && ' · '}
              {/* values from the task's table are what runs for it: marked, with the table named */}
              <span className={p.table ? 'rounded bg-sky-50 px-0.5 text-sky-700 dark:bg-sky-950 dark:text-sky-300' : ''} title={p.table ? `${p.table} value` : undefined}>
                {p.text}
              </span>
            </span>
          ))}
        </div>
      )}
      <div className="flex justify-between py-1">
        <div className="min-w-0 flex-1">
          {data.inputs.map((p) => (
            <PortRow key={p.name} port={p} side="in" />
          ))}
        </div>
        <div className="min-w-0 flex-1">
          {data.outputs.map((p) => (
            <PortRow key={p.name} port={p} side="out" dead={data.deadOutputs?.includes(p.name)} />
          ))}
        </div>
      </div>
      {data.kind === 'Preview' && <LivePreview id={id} />}
    </div>
  );
});
