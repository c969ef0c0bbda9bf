/**
 * The parameters the editor shows are the ones the next run uses: the node's own value, or the
 * chosen task's (or profile's) override where the graph has one. This module says which value
 * that is and where it comes from, and routes edits and resets to that layer, through the same
 * layering the engine compiles with (protocol/params.ts); edits go through `setParam`.
 */
import { matchingReference, mergedParams, paramOrigin, referenceValue } from '../../protocol/params';
import type { Layer } from '../../protocol/params';
import type { WireGraph } from '../../protocol/messages';
import { useCatalog } from '../state/catalog';
import { useDocument } from '../state/document';
import { selectionOf, setParam } from './actions';

/** "box inpainting", "profile 4k", "all tasks". */
export function layerName(layer: Layer | undefined): string {
  if (layer === undefined) return 'default';
  if (layer === 'base') return 'all tasks';
  if (layer.startsWith('task:')) {
    const task = layer.slice(5);
    const title = useCatalog.getState().kinds.find((k) => k.task === task)?.title;
    return title ? title.charAt(0).toLowerCase() + title.slice(1) : task;
  }
  return layer.startsWith('profile:') ? `profile ${layer.slice(8)}` : 'this run';
}

/** Where one parameter's running value comes from, and how it compares with the references. */
export interface ParamSource {
  value: unknown;
  layer?: Layer;
  /** The reference label the value equals (e.g. "paper"). */
  matches?: string;
  /** The paper's value when the running value differs from it (edited, or a preset's retuning). */
  paper?: unknown;
  /** The note of the matching reference (where its numbers come from). */
  note?: string;
}

/** The running value of node `id`'s `param` and its origin. */
export function paramSource(doc: WireGraph, id: string, param: string): ParamSource {
  const sel = selectionOf(doc);
  const { layer, value } = paramOrigin(doc, sel, id, param);
  const matches = layer === undefined ? undefined : matchingReference(doc, sel, id, param, value);
  const paper = referenceValue(doc, 'paper', sel, id, param);
  const note = matches ? doc.reference?.[matches]?.note : undefined;
  return {
    value,
    ...(layer ? { layer } : {}),
    ...(matches ? { matches } : {}),
    ...(paper !== undefined && JSON.stringify(paper) !== JSON.stringify(value) ? { paper } : {}),
    ...(note ? { note } : {}),
  };
}

/** Every node's running parameters (before defaults) and which of them a task or profile table supplies. */
export function runningParams(doc: WireGraph): { params: Record<string, Record<string, unknown>>; fromTable: (id: string, param: string) => Layer | undefined } {
  const sel = selectionOf(doc);
  const params = mergedParams(doc, sel);
  return {
    params,
    fromTable: (id, param) => {
      const { layer } = paramOrigin(doc, sel, id, param);
      return layer && layer !== 'base' ? layer : undefined;
    },
  };
}

/** Puts the paper's value back in the layer that supplies the parameter now. */
export function resetToPaper(id: string, param: string): void {
  const doc = useDocument.getState().doc;
  const value = referenceValue(doc, 'paper', selectionOf(doc), id, param);
  if (value !== undefined) setParam(id, param, value);
}
