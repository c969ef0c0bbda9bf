/**
 * The node-kind registry: every kind a graph may use, by name. The built-in kinds are fixed;
 * kinds added at run time (plugins, through the engine's plugin layer) join them with
 * {@link addNodeKind} and leave with the function it returns.
 */
import { imageInput, measurementInput, metrics, output, preview, result, simulate } from './io';
import { latentNodes } from './latent';
import { latentDapsNodes } from './latentDaps';
import { onnxOperator, operatorNodes } from './operators';
import { annealedLangevin, denoise, dpsGuidance, dualUpdate, noising, probabilityFlowODE, schedule, scoreModel, state, xUpdate, zUpdate } from './solver';
import type { NodeKind, NodeRole } from './types';

export type { NodeCategory, NodeKind, NodeRole, PortSpec, PortType, Requirement } from './types';
export { operatorNodes } from './operators';
// The built-in declarations, so the engine can key what it does per kind by the declaration itself.
export { imageInput, measurementInput, metrics, output, preview, result, simulate } from './io';
export { onnxOperator } from './operators';
export { decoder, encoder, latentScoreModel, latentXUpdate } from './latent';
export { latentMCMC, latentProbabilityFlowODE } from './latentDaps';
export { annealedLangevin, denoise, dpsGuidance, dualUpdate, noising, probabilityFlowODE, schedule, scoreModel, state, xUpdate, zUpdate } from './solver';

/** An operator node kind: the kind plus the task (operator id) it builds. */
export type OperatorNodeKind = NodeKind & { readonly task: string };

const builtins: readonly NodeKind[] = [
  imageInput,
  measurementInput,
  simulate,
  ...operatorNodes,
  onnxOperator,
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
  ...latentNodes,
  ...latentDapsNodes,
  result,
  preview,
  output,
  metrics,
];

/** Kinds added at run time, in the order they were added, with who added them. */
const added: { kind: NodeKind; origin: string }[] = [];
let all: readonly NodeKind[] = builtins;

const isOperatorKind = (k: NodeKind): k is OperatorNodeKind => typeof (k as { task?: unknown }).task === 'string';

/** All node kinds: the built-in ones, then those added at run time. */
export function nodeKinds(): readonly NodeKind[] {
  return all;
}

/** The kind named `kind`, or undefined. */
export function nodeKind(kind: string): NodeKind | undefined {
  return all.find((k) => k.kind === kind);
}

/** Every operator node kind (built-in and added), each with the task id it builds. */
export function operatorNodeKinds(): readonly OperatorNodeKind[] {
  return all.filter(isOperatorKind);
}

/** How the compiler treats nodes of kind `kind` (`step` when the kind does not say, or is unknown). */
export function roleOf(kind: string): NodeRole {
  return nodeKind(kind)?.role ?? 'step';
}

/** Whether an edge into port `port` of a node of kind `kind` is a loop's back edge (into a state's loop input). */
export function isLoopEdge(kind: string, port: string): boolean {
  const k = nodeKind(kind);
  return k?.role === 'state' && k.loopInput === port;
}

/** The task id an operator node builds (e.g. GaussianBlur → deblur-gauss), or undefined. */
export function operatorTask(kind: string): string | undefined {
  const k = nodeKind(kind);
  return k && isOperatorKind(k) ? k.task : undefined;
}

/** Who declared kind `kind`: `'builtin'`, the origin it was added with (a plugin's name), or undefined. */
export function nodeKindOrigin(kind: string): string | undefined {
  if (builtins.some((k) => k.kind === kind)) return 'builtin';
  return added.find((a) => a.kind.kind === kind)?.origin;
}

/**
 * Adds a node kind at run time (an operator kind carries `task`). Refuses a name that exists,
 * naming both owners. Returns the function that removes it again (a refused plugin's rollback).
 * @param origin - who declares it: a plugin's name
 */
export function addNodeKind(kind: NodeKind | OperatorNodeKind, origin: string): () => void {
  const owner = nodeKindOrigin(kind.kind);
  if (owner !== undefined) {
    const other = owner === 'builtin' ? 'the built-in node kind' : `the node kind of plugin '${owner}'`;
    throw new Error(`node kind '${kind.kind}' of plugin '${origin}' clashes with ${other} '${kind.kind}'`);
  }
  const entry = { kind, origin };
  added.push(entry);
  all = [...builtins, ...added.map((a) => a.kind)];
  return () => {
    const i = added.indexOf(entry);
    if (i < 0) return;
    added.splice(i, 1);
    all = [...builtins, ...added.map((a) => a.kind)];
  };
}
