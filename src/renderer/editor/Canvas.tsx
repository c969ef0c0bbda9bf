/**
 * The graph canvas: nodes from the document, drag-in from the palette, typed connections (refused
 * with a reason), double-click quick add, selection, deletion, minimap, and the problems (the
 * engine's and the last run's) on the offending nodes. Positions are committed to the document
 * when a drag ends (one undo step). A graph file or a result PNG dropped on it opens that graph.
 * Groups are drawn as frames behind their members (dragging a frame moves them) or, collapsed,
 * as one node with the members' external ports (`groupView.ts`).
 */
import { Background, BackgroundVariant, Controls, MiniMap, ReactFlow, applyEdgeChanges, applyNodeChanges, useReactFlow } from '@xyflow/react';
import type { Connection, Edge, EdgeChange, FinalConnectionState, NodeChange, OnSelectionChangeParams } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EngineClient } from '../../protocol/client';
import { useHost } from '../host/context';
import { openGraphFile } from '../presets/files';
import { useCatalog } from '../state/catalog';
import { activeRun, useRun } from '../state/run';
import { edgeId, useDocument } from '../state/document';
import { missingKindMessage, missingKindShort, pluginOf, storedPorts } from '../state/kindCatalog';
import { addNode, connectEdge, removeElements } from './actions';
import { connectionProblem, portColor, portOf } from './ports';
import { useProblems } from './Problems';
import { QuickAdd } from './QuickAdd';
import { GroupNode } from './GroupNode';
import type { GroupFlowNode } from './GroupNode';
import { StudioNode } from './StudioNode';
import type { StudioFlowNode } from './StudioNode';
import { documentEnd, groupOfFrame, viewEdge } from './groups';
import { collapsedMembers, groupNodes } from './groupView';
import { layerName, runningParams } from './effective';
import { summarize } from './summary';
import { useUi } from './ui';
import { useAutoLayout } from './useAutoLayout';

const nodeTypes = { studio: StudioNode, frame: GroupNode };
type FlowNode = StudioFlowNode | GroupFlowNode;

/** A connection drawn on the canvas in document terms (a collapsed group's handle names its member's port). */
function documentConnection(c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }): Connection {
  const s = documentEnd(c.source, c.sourceHandle ?? null);
  const t = documentEnd(c.target, c.targetHandle ?? null);
  return { source: s.node, sourceHandle: s.port, target: t.node, targetHandle: t.port };
}

/** A file dropped on the canvas: a graph or a result PNG opens as the document (Undo returns to this one). */
async function dropFile(engine: EngineClient, file: File): Promise<void> {
  const { notify } = useUi.getState();
  const before = useDocument.getState().doc;
  try {
    const bad = await openGraphFile(engine, file.name, new Uint8Array(await file.arrayBuffer()));
    if (bad) notify({ tone: 'error', text: `${bad.file} could not be opened: ${bad.issues.join('; ')}` });
    else {
      const back = before.nodes.length ? `; Undo returns to “${before.name}”` : '';
      notify({ tone: 'success', text: `Opened “${useDocument.getState().doc.name}” from ${file.name}${back}` });
    }
  } catch (err) {
    notify({ tone: 'error', text: `${file.name} could not be opened: ${(err as Error).message}` });
  }
}
export const DRAG_MIME = 'application/x-lagrange-node';

export function Canvas(): React.JSX.Element {
  const doc = useDocument((s) => s.doc);
  const { errors, warnings } = useProblems();
  const kinds = useCatalog((s) => s.kindIndex);
  // Port types some kind takes as an input: an output of another type leads nowhere (Schedule's t, σ).
  const accepted = useMemo(() => new Set([...kinds.values()].flatMap((k) => k.inputs.map((p) => p.type))), [kinds]);
  const plugins = useCatalog((s) => s.plugins);
  const { screenToFlowPosition } = useReactFlow();
  const { engine } = useHost();
  const layout = useAutoLayout();
  const running = useRun((s) => Boolean(activeRun(s)));
  const setSelection = useUi((s) => s.setSelection);
  const notify = useUi((s) => s.notify);
  const [nodes, setNodes] = useState<StudioFlowNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const focus = useUi((s) => s.focus);
  const [quick, setQuick] = useState<{ x: number; y: number; flow: { x: number; y: number } }>();
  const [frameSelection, setFrameSelection] = useState<ReadonlySet<string>>(new Set());
  const collapsed = useMemo(() => collapsedMembers(doc), [doc]);
  const latest = useRef<StudioFlowNode[]>([]);
  latest.current = nodes;

  // Rebuild the flow's nodes from the document, keeping what React Flow measured and selected.
  useEffect(() => {
    const running = runningParams(doc);
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return doc.nodes.map((n) => {
        const o = old.get(n.id);
        const kind = kinds.get(n.kind);
        const ports = kind ?? storedPorts(doc, n.id, (k) => kinds.get(k));
        const plugin = pluginOf(kind) ?? n.plugin;
        const data = {
          kind: n.kind,
          title: kind?.title ?? n.kind,
          category: kind?.category ?? 'update',
          doc: kind?.doc ?? '',
          inputs: ports.inputs,
          outputs: ports.outputs,
          ...(plugin ? { plugin } : {}),
          ...(kind ? {} : { missing: missingKindShort(n, plugins), doc: missingKindMessage(n, plugins) }),
          errors: errors.filter((e) => e.nodeId === n.id).map((e) => e.message),
          warnings: warnings.filter((e) => e.nodeId === n.id).map((e) => e.message),
          deadOutputs: ports.outputs.filter((p) => !accepted.has(p.type)).map((p) => p.name),
          summary: summarize(n.kind, running.params[n.id] ?? n.params, (p) => {
            const layer = running.fromTable(n.id, p);
            return layer ? layerName(layer) : undefined;
          }),
        };
        // A collapsed group's members stay drawn (measured, for layout) but unseen and untouchable.
        const hidden = collapsed.has(n.id);
        const look = hidden
          ? { style: { visibility: 'hidden' as const, pointerEvents: 'none' as const }, selectable: false, draggable: false, selected: false }
          : { style: undefined, selectable: true, draggable: true };
        return { ...(o ?? {}), ...look, id: n.id, type: 'studio' as const, position: n.position ?? { x: 0, y: 0 }, data };
      });
    });
  }, [doc, errors, warnings, kinds, plugins, collapsed, accepted]);
  // Group nodes are derived anew on each change; what React Flow measured of them is kept here.
  const [frameSizes, setFrameSizes] = useState<ReadonlyMap<string, { width: number; height: number }>>(new Map());
  const frames = useMemo(
    () => groupNodes(doc, nodes, frameSelection).map((f) => (frameSizes.has(f.id) ? { ...f, measured: frameSizes.get(f.id) } : f)),
    [doc, nodes, frameSelection, frameSizes],
  );
  const shown = useMemo<FlowNode[]>(() => [...frames, ...nodes], [frames, nodes]);

  useEffect(() => {
    setEdges((prev) => {
      const selected = new Set(prev.filter((e) => e.selected).map((e) => e.id));
      return doc.edges.flatMap((e) => {
        const type = portOf(doc, e.source, 'out', e.sourcePort)?.port.type ?? 'image';
        const id = edgeId(e);
        const back = e.targetPort === 'next'; // loop edges into a State
        const drawn = viewEdge(e, (n) => collapsed.get(n));
        if (!drawn) return []; // inside one collapsed group
        return {
          id,
          ...drawn,
          selected: selected.has(id),
          // Marching dashes show a loop at work; at rest they would keep a CPU core busy redrawing.
          animated: back && running,
          style: { stroke: portColor(type), strokeWidth: 2, ...(back ? { strokeDasharray: '6 4' } : {}) },
        };
      });
    });
  }, [doc.edges, doc.nodes, kinds, running, collapsed]);

  // Select what was just pasted or added, once it is on the canvas.
  useEffect(() => {
    if (!focus || !focus.every((id) => nodes.some((n) => n.id === id))) return;
    setNodes((ns) => ns.map((n) => ({ ...n, selected: focus.includes(n.id) })));
    setEdges((es) => es.map((e) => ({ ...e, selected: false })));
    useUi.getState().select(undefined);
  }, [focus, nodes]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      // A group's node is drawn from its members: moving it moves them, selecting it is kept here.
      const own = changes.filter((c) => !('id' in c) || !groupOfFrame(c.id));
      // Members dragged along with their frame (both selected) already move with the drag.
      const dragged = new Set(own.flatMap((c) => (c.type === 'position' ? [c.id] : [])));
      for (const c of changes) {
        if (!('id' in c)) continue;
        const g = groupOfFrame(c.id);
        if (!g) continue;
        if (c.type === 'dimensions' && c.dimensions) {
          const size = c.dimensions;
          setFrameSizes((m) => new Map([...m, [c.id, size]]));
        }
        if (c.type === 'select') setFrameSelection((s) => new Set(c.selected ? [...s, c.id] : [...s].filter((x) => x !== c.id)));
        if (c.type === 'position' && c.position) {
          const frame = frames.find((f) => f.id === c.id);
          const members = new Set((doc.groups?.find((x) => x.id === g)?.nodes ?? []).filter((n) => !dragged.has(n)));
          if (!frame) continue;
          const dx = c.position.x - frame.position.x,
            dy = c.position.y - frame.position.y;
          if (dx || dy) setNodes((ns) => ns.map((n) => (members.has(n.id) ? { ...n, position: { x: n.position.x + dx, y: n.position.y + dy } } : n)));
        }
      }
      setNodes((ns) => applyNodeChanges(own.filter((c) => c.type !== 'remove') as NodeChange<StudioFlowNode>[], ns));
      const removed = own.filter((c) => c.type === 'remove').map((c) => c.id);
      if (removed.length) removeElements(removed, []);
    },
    [frames, doc.groups],
  );
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setEdges((es) =>
      applyEdgeChanges(
        changes.filter((c) => c.type !== 'remove'),
        es,
      ),
    );
    const removed = changes.filter((c) => c.type === 'remove').map((c) => c.id);
    if (removed.length) removeElements([], removed);
  }, []);

  const isValidConnection = useCallback((c: Connection | Edge) => !connectionProblem(useDocument.getState().doc, documentConnection(c)), []);
  const onConnect = useCallback((c: Connection) => connectEdge(documentConnection(c)), []);
  const onConnectEnd = useCallback(
    (_: MouseEvent | TouchEvent, s: FinalConnectionState) => {
      if (!s.toHandle || s.isValid || !s.fromHandle) return;
      // The user dropped on a port that does not fit: say why (either drag direction).
      const [from, to] = s.fromHandle.type === 'source' ? [s.fromHandle, s.toHandle] : [s.toHandle, s.fromHandle];
      const why = connectionProblem(
        useDocument.getState().doc,
        documentConnection({ source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }),
      );
      if (why) notify({ tone: 'error', text: `Connection refused: ${why}` });
    },
    [notify],
  );

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const file = e.dataTransfer.files[0];
      if (file) {
        e.preventDefault();
        return void dropFile(engine, file);
      }
      const kind = e.dataTransfer.getData(DRAG_MIME);
      if (!kind) return;
      e.preventDefault();
      const id = addNode(kind, screenToFlowPosition({ x: e.clientX, y: e.clientY }));
      if (id) useUi.getState().select([id]);
    },
    [screenToFlowPosition, engine],
  );

  const onDoubleClick = useCallback(
    (e: React.MouseEvent) => {
      if (!(e.target as HTMLElement).classList.contains('react-flow__pane')) return;
      const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
      setQuick({ x: e.clientX - box.left, y: e.clientY - box.top, flow: screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [screenToFlowPosition],
  );

  const onSelectionChange = useCallback(
    (p: OnSelectionChangeParams) =>
      setSelection(
        p.nodes.map((n) => n.id).filter((id) => !groupOfFrame(id)),
        p.edges.map((e) => e.id),
      ),
    [setSelection],
  );
  const onNodeDragStop = useCallback((_: unknown, __: unknown, dragged: FlowNode[]) => {
    // A dragged group commits where its members went.
    const groups = new Set(dragged.map((n) => groupOfFrame(n.id)).filter((g) => g !== undefined));
    const members = new Set((useDocument.getState().doc.groups ?? []).filter((g) => groups.has(g.id)).flatMap((g) => g.nodes));
    const moved = new Map([...dragged.filter((n) => !groupOfFrame(n.id)), ...latest.current.filter((n) => members.has(n.id))].map((n) => [n.id, n.position]));
    useDocument.getState().edit((d) => {
      for (const n of d.nodes) {
        const p = moved.get(n.id);
        const to = p && { x: Math.round(p.x), y: Math.round(p.y) };
        // A click is a drag of zero length: no history entry for it.
        if (to && (to.x !== n.position?.x || to.y !== n.position?.y)) n.position = to;
      }
    });
  }, []);

  const minimapColor = useMemo(() => (n: FlowNode) => (n.type === 'frame' ? 'transparent' : n.data.errors.length ? '#ef4444' : '#94a3b8'), []);

  return (
    <div
      className="relative h-full w-full"
      onDoubleClick={onDoubleClick}
      onDragOver={(e) => e.preventDefault()}
      onDrop={onDrop}
      data-testid="canvas"
      data-layout={layout.pending ? 'pending' : 'idle'}
    >
      <ReactFlow
        nodes={shown}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onSelectionChange={onSelectionChange}
        onNodeDragStop={onNodeDragStop}
        zoomOnDoubleClick={false}
        deleteKeyCode={null /* the editor's shortcuts delete the selection as one undo step */}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.2} />
        <Controls position="bottom-left" />
        <MiniMap pannable zoomable nodeColor={minimapColor} position="bottom-right" className="!rounded-md !border !border-slate-200 dark:!border-slate-700 dark:!bg-slate-900" />
      </ReactFlow>
      {doc.nodes.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center text-center text-slate-400">
          <div>
            <p className="text-base font-medium">Empty graph</p>
            <p>Drag nodes in from the palette, or double-click the canvas to search.</p>
          </div>
        </div>
      )}
      {quick && <QuickAdd at={quick} onPick={(kind) => useUi.getState().select([addNode(kind, quick.flow)!])} onClose={() => setQuick(undefined)} />}
    </div>
  );
}
