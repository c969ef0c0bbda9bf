/**
 * The canvas's auto-layout and framing: a requested layout (see `UiState.layout`) waits until every
 * node of the document is on the canvas and measured, lays it out from those sizes and handle
 * places ({@link autoLayout}), and frames the result; a newly opened document is framed at a
 * readable zoom. While either is under way the canvas carries `data-layout="pending"`.
 */
import { useNodesInitialized, useReactFlow, useStoreApi } from '@xyflow/react';
import { useCallback, useEffect, useState } from 'react';
import { useDocument } from '../state/document';
import type { StudioFlowNode } from './StudioNode';
import type { LayoutBox } from './layout';
import { autoLayout } from './layout';
import { useUi } from './ui';

/** The least zoom a first view uses: 11 px port names stay ≥ 10 px on screen. */
export const READABLE_ZOOM = 0.92;
const MAX_ZOOM = 1.2;
const PAD = 24;

/** Layout state for the canvas element. */
export function useAutoLayout(): { pending: boolean } {
  const rf = useReactFlow<StudioFlowNode>();
  const store = useStoreApi<StudioFlowNode>();
  const initialized = useNodesInitialized();
  const request = useUi((s) => s.layout);
  const doc = useDocument((s) => s.doc);
  const opened = useDocument((s) => s.opened);
  const [framing, setFraming] = useState(false);
  const [running, setRunning] = useState(false);

  /**
   * Fits the graph in the pane, but never below {@link READABLE_ZOOM}: a graph too big for the pane
   * at that zoom shows its start (inputs, top left) rather than its middle.
   */
  const frame = useCallback(() => {
    const { width, height } = store.getState();
    const nodes = rf.getNodes();
    if (!nodes.length || !width || !height) return void rf.setViewport({ x: 0, y: 0, zoom: 1 });
    const b = rf.getNodesBounds(nodes);
    const fit = Math.min((width - 2 * PAD) / b.width, (height - 2 * PAD) / b.height);
    const zoom = Math.min(MAX_ZOOM, Math.max(READABLE_ZOOM, fit));
    const place = (room: number, size: number, at: number): number => (size * zoom <= room - 2 * PAD ? (room - size * zoom) / 2 - at * zoom : PAD - at * zoom);
    void rf.setViewport({ x: place(width, b.width, b.x), y: place(height, b.height, b.y), zoom });
  }, [rf, store]);

  const frameSoon = useCallback(() => {
    setFraming(true);
    // After React Flow has drawn the moved nodes (their bounds come from its store).
    setTimeout(() => {
      frame();
      setFraming(false);
    }, 60);
  }, [frame]);

  // A newly opened document is framed, unless a layout is coming (that one frames).
  useEffect(() => {
    if (!useUi.getState().layout) frameSoon();
  }, [opened, frameSoon]);

  useEffect(() => {
    if (!request || running) return;
    if (!doc.nodes.length) {
      useUi.getState().layoutDone();
      return frameSoon();
    }
    if (!initialized) return;
    const boxes: LayoutBox[] = [];
    for (const n of doc.nodes) {
      const node = rf.getInternalNode(n.id);
      // Not drawn yet, or still drawn as the node of the same id in the document before.
      if (!node?.measured.width || !node.measured.height || node.data.kind !== n.kind) return;
      const handles = node.internals.handleBounds;
      const place = (h: { id?: string | null; x: number; y: number; width: number; height: number }, side: 'in' | 'out') => ({
        name: h.id ?? '',
        side,
        x: h.x + h.width / 2,
        y: h.y + h.height / 2,
      });
      boxes.push({
        id: n.id,
        width: node.measured.width,
        height: node.measured.height,
        ports: [...(handles?.target ?? []).map((h) => place(h, 'in')), ...(handles?.source ?? []).map((h) => place(h, 'out'))],
      });
    }
    setRunning(true);
    const graph = doc;
    autoLayout(boxes, doc.edges, doc.groups ?? [])
      .then((at) => {
        // An edit while ELK worked: lay out again from the edited document.
        if (useDocument.getState().doc !== graph) return;
        useDocument.getState().arrange(at, request.undoable === 'amend' ? 'amend' : !request.undoable);
        useUi.getState().layoutDone();
        frameSoon();
      })
      .catch((e: Error) => {
        useUi.getState().layoutDone();
        useUi.getState().notify({ tone: 'error', text: `Auto-layout failed: ${e.message}` });
      })
      .finally(() => setRunning(false));
  }, [request, running, initialized, doc, rf, frameSoon]);

  return { pending: Boolean(request) || framing };
}
