/**
 * How a group looks on the canvas: expanded, a titled frame behind its members (drag the title bar
 * to move them together; double-click the title to rename); collapsed, one node whose ports are the
 * members' ports wired to the rest of the graph, named `node.port`. Both toggle with one button.
 */
import { Handle, Position } from '@xyflow/react';
import type { Node, NodeProps } from '@xyflow/react';
import { memo, useState } from 'react';
import type { PortType } from '../../nodes/types';
import type { WireGraph } from '../../protocol/messages';
import { useDocument } from '../state/document';
import { ungroup, updateGroup } from './groups';
import { portColor } from './ports';

/** A port of a collapsed group. */
export interface GroupPortView {
  handle: string;
  type: PortType | string;
}

/** Data the canvas hands a group's node. */
export type GroupNodeData = {
  group: string;
  title: string;
  count: number;
  collapsed: boolean;
  /** Expanded: the frame's size (the box around the members, padded). */
  width: number;
  height: number;
  inputs: GroupPortView[];
  outputs: GroupPortView[];
};
export type GroupFlowNode = Node<GroupNodeData, 'frame'>;

const edit = (fn: (d: WireGraph) => void): void => useDocument.getState().edit((d) => fn(d as WireGraph));

function Title({ data }: { data: GroupNodeData }): React.JSX.Element {
  const [editing, setEditing] = useState(false);
  if (editing)
    return (
      <input
        autoFocus
        defaultValue={data.title}
        className="nodrag min-w-0 flex-1 rounded bg-white px-1 text-[12px] text-slate-900 outline-none dark:bg-slate-800 dark:text-white"
        data-testid={`group-title-input-${data.group}`}
        onBlur={(e) => {
          setEditing(false);
          const title = e.target.value.trim();
          if (title && title !== data.title) edit((d) => updateGroup(d, data.group, { title }));
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
          if (e.key === 'Escape') setEditing(false);
        }}
      />
    );
  return (
    <span className="min-w-0 truncate text-[12px] font-semibold" onDoubleClick={() => setEditing(true)} title="double-click to rename" data-testid={`group-title-${data.group}`}>
      {data.title}
    </span>
  );
}

function Bar({ data }: { data: GroupNodeData }): React.JSX.Element {
  const btn = 'nodrag shrink-0 rounded px-1 text-[11px] leading-4 text-slate-500 hover:bg-white/70 hover:text-slate-900 dark:hover:bg-slate-800 dark:hover:text-white';
  return (
    <div className="flex items-center gap-1.5 rounded-t-lg bg-slate-200/80 px-2 py-1 text-slate-700 dark:bg-slate-700/80 dark:text-slate-100" style={{ pointerEvents: 'all' }}>
      <button
        className={btn}
        onClick={() => edit((d) => updateGroup(d, data.group, { collapsed: !data.collapsed }))}
        title={data.collapsed ? 'Expand the group' : 'Collapse the group into one node'}
        data-testid={`group-toggle-${data.group}`}
      >
        {data.collapsed ? '▸' : '▾'}
      </button>
      <Title data={data} />
      <span className="shrink-0 text-[10px] opacity-70">
        {data.count} node{data.count === 1 ? '' : 's'}
      </span>
      <button className={`${btn} ml-auto`} onClick={() => edit((d) => ungroup(d, data.group))} title="Ungroup (the nodes stay)" data-testid={`group-ungroup-${data.group}`}>
        ×
      </button>
    </div>
  );
}

function Port({ port, side }: { port: GroupPortView; side: 'in' | 'out' }): React.JSX.Element {
  const left = side === 'in';
  return (
    <div className={`relative flex items-center py-0.5 font-mono text-[10px] ${left ? 'justify-start pl-3' : 'justify-end pr-3'}`} title={`${port.handle} (${port.type})`}>
      <Handle id={port.handle} type={left ? 'target' : 'source'} position={left ? Position.Left : Position.Right} style={{ background: portColor(port.type) }} />
      <span className="text-slate-600 dark:text-slate-300">{port.handle}</span>
    </div>
  );
}

export const GroupNode = memo(function GroupNode({ data, selected }: NodeProps<GroupFlowNode>): React.JSX.Element {
  if (!data.collapsed)
    return (
      <div
        className={`rounded-lg border-2 border-dashed bg-slate-400/5 ${selected ? 'border-sky-500' : 'border-slate-300 dark:border-slate-600'}`}
        style={{ width: data.width, height: data.height, pointerEvents: 'none' }}
        data-testid={`group-${data.group}`}
        data-collapsed="false"
      >
        <Bar data={data} />
      </div>
    );
  return (
    <div
      className={`w-max min-w-52 rounded-lg border-2 border-dashed bg-white shadow-sm dark:bg-slate-900 ${selected ? 'border-sky-500' : 'border-slate-400 dark:border-slate-500'}`}
      data-testid={`group-${data.group}`}
      data-collapsed="true"
    >
      <Bar data={data} />
      <div className="flex justify-between gap-3 py-1">
        <div className="min-w-0">
          {data.inputs.map((p) => (
            <Port key={p.handle} port={p} side="in" />
          ))}
        </div>
        <div className="min-w-0">
          {data.outputs.map((p) => (
            <Port key={p.handle} port={p} side="out" />
          ))}
        </div>
      </div>
    </div>
  );
});
