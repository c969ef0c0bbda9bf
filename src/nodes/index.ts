/** The node-kind registry: every kind a graph may use, by name. */
import { imageInput, measurementInput, metrics, output, preview, result, simulate } from './io';
import { operatorNodes } from './operators';
import { annealedLangevin, denoise, dpsGuidance, dualUpdate, noising, probabilityFlowODE, schedule, scoreModel, state, xUpdate, zUpdate } from './solver';
import type { NodeKind } from './types';

export type { NodeCategory, NodeKind, PortSpec, PortType, Requirement } from './types';
export { operatorNodes } from './operators';

const all: readonly NodeKind[] = [
  imageInput,
  measurementInput,
  simulate,
  ...operatorNodes,
  scoreModel,
  schedule,
  state,
  denoise,
  xUpdate,
  zUpdate,
  dualUpdate,
  noising,
  dpsGuidance,
  annealedLangevin,
  probabilityFlowODE,
  result,
  preview,
  output,
  metrics,
] as unknown as readonly NodeKind[];

/** All node kinds. */
export function nodeKinds(): readonly NodeKind[] {
  return all;
}

/** The kind named `kind`, or undefined. */
export function nodeKind(kind: string): NodeKind | undefined {
  return all.find((k) => k.kind === kind);
}

/** The task id an operator node builds (e.g. GaussianBlur → deblur-gauss), or undefined. */
export function operatorTask(kind: string): string | undefined {
  return operatorNodes.find((k) => k.kind === kind)?.task;
}
