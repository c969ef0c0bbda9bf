/**
 * Which tasks each solver of a study runs when the study asks for every task (`lagrange eval
 * --tasks all`). The built-in presets run every built-in task, as they always have; a plugin's task
 * is added only for the solvers that can run it, and a plugin's preset (tuned for its plugin's
 * operator) is not crossed with tasks it was not made for:
 *
 * - a task runs on a solver only if its operator accepts the solver's image shape (the prior's
 *   C×H×W: CT and MRI need C = 1; a latent graph's, the images its autoencoder decodes);
 * - a latent graph (LatentScoreModel) brings its own latent model and takes only a latent one as
 *   `--prior`; a pixel graph takes no latent `--prior`;
 * - a solver graph runs a plugin task only if, with that task simulated, the validator finds
 *   neither an error nor a substitution (a warning such as a prox replaced by a linearized step);
 * - a graph built around a plugin's operator (a node of a plugin kind) runs only its home tasks:
 *   the task of its own operator node and those it has `task:<id>` overrides for;
 * - the reference solvers (`tikhonov`, `measurement`) run every task the shape allows.
 *
 * When no learned prior fixes the image shape (a Gaussian prior, or a reference solver without
 * `--prior`), the shape is not checked here: the row itself says why it cannot run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { operatorTask } from '../../nodes/index';
import { withMeasurement, withPrior } from '../graph/edit';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { presetFile } from '../graph/presets';
import { validateGraph } from '../graph/validate';
import { operatorOrigin, operatorSpec } from '../operators/registry';
import { resolveModelDir } from '../priors/catalog';
import { readModelCard } from '../priors/modelCard';
import { readLatentBlock, readLatentFolder } from '../priors/latentCard';
import { latentModelDir } from '../priors/latentPrior';
import { latentBlockOf } from './latent';
import type { StudySpec } from './study';
import { REFERENCE_SOLVERS } from './study';

type Shape = [number, number, number];

/** C×H×W of a learned prior (bundled name or folder); undefined for gaussian, gmm or an unreadable card. */
function priorShape(prior: string | undefined): Shape | undefined {
  if (!prior || prior === 'gaussian' || prior === 'gmm') return undefined;
  try {
    const dir = resolveModelDir(prior);
    const image = readLatentBlock(dir)?.image ?? readModelCard(dir).image; // a latent model: the images it decodes
    return [image.channels, image.height, image.width];
  } catch {
    return undefined;
  }
}

/** C×H×W of the images behind a LatentScoreModel's latents (its card's latent block); undefined when unreadable. */
function latentImageShape(params: Record<string, unknown>): Shape | undefined {
  try {
    const { image } = readLatentFolder(latentModelDir(params)).prior.block;
    return [image.channels, image.height, image.width];
  } catch {
    return undefined;
  }
}

/** The graph of a preset name or graph file, or undefined when it cannot be read (its rows report that). */
function solverGraph(solver: string): GraphDocument | undefined {
  const file = existsSync(solver) ? solver : presetFile(solver);
  if (!file) return undefined;
  try {
    return parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
  } catch {
    return undefined;
  }
}

/** The tasks a graph was made for: its operator nodes' tasks and its `task:<id>` override layers. */
function homeTasks(doc: GraphDocument): Set<string> {
  const home = new Set<string>();
  for (const n of doc.nodes) {
    const t = operatorTask(n.kind);
    if (t) home.add(t);
  }
  for (const layer of Object.keys(doc.overrides)) if (layer.startsWith('task:')) home.add(layer.slice(5));
  return home;
}

const isPluginTask = (task: string): boolean => {
  const origin = operatorOrigin(task);
  return origin !== undefined && origin !== 'builtin';
};

/** Whether the operator of `task` takes images of `shape` (unknown shape: not checked). */
function shapeFits(task: string, shape: Shape | undefined): boolean {
  return !shape || !operatorSpec(task).checkShape?.(shape);
}

/**
 * Whether `solver` can run `task` in a study with `prior` (the study's `--prior`, if any): see the
 * module's rules. A solver whose graph cannot be read keeps every task, so its rows report why.
 */
export function solverRunsTask(solver: string, task: string, prior?: string): boolean {
  if ((REFERENCE_SOLVERS as readonly string[]).includes(solver)) return shapeFits(task, priorShape(prior));
  let doc = solverGraph(solver);
  if (!doc) return true;
  // A latent graph carries its own latent model: it takes no pixel --prior, and runs the tasks
  // whose operator takes the images its autoencoder decodes.
  const latent = doc.nodes.find((n) => n.kind === 'LatentScoreModel');
  const latentPrior = prior !== undefined && latentBlockOf(prior, existsSync(prior)) !== undefined;
  if (latent ? prior !== undefined && !latentPrior : latentPrior) return false;
  const ownPrior = doc.nodes.find((n) => n.kind === 'ScoreModel')?.params.model;
  const shape = latent
    ? latentImageShape(prior ? { source: existsSync(prior) ? 'onnx' : 'bundled', model: prior } : latent.params)
    : priorShape(prior ?? (typeof ownPrior === 'string' ? ownPrior : undefined));
  if (!shapeFits(task, shape)) return false;
  const pluginGraph = doc.nodes.some((n) => operatorTask(n.kind) !== undefined && isPluginTask(operatorTask(n.kind)!));
  if (pluginGraph) return homeTasks(doc).has(task);
  if (!isPluginTask(task)) return true; // built-in presets × built-in tasks: the product's own study
  try {
    if (prior) doc = withPrior(doc, prior, existsSync(prior));
    const v = validateGraph(withMeasurement(doc, { kind: 'simulate', task }));
    return v.ok && v.warnings.length === 0;
  } catch {
    return false;
  }
}

/** `spec` split into studies whose solvers × tasks all can run (see {@link solverRunsTask}), in solver order. */
function splitStudy(spec: StudySpec): StudySpec[] {
  const groups = new Map<string, { solvers: string[]; tasks: string[] }>();
  for (const solver of spec.solvers) {
    const tasks = spec.tasks.filter((t) => solverRunsTask(solver, t, spec.prior));
    if (tasks.length === 0) continue;
    const key = tasks.join(',');
    const g = groups.get(key) ?? { solvers: [], tasks };
    g.solvers.push(solver);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({ ...spec, ...g }));
}

/**
 * The studies of `--tasks all`: each of `specs` (one per σ_y and budget, every task) split so that
 * each solver runs only the tasks it can (solvers running the same tasks share a study; one that
 * runs none is left out). @throws Error naming the solvers when none of them can run any task
 */
export function studiesForAllTasks(specs: readonly StudySpec[]): StudySpec[] {
  const out = specs.flatMap(splitStudy);
  if (out.length === 0 && specs.length > 0) {
    const s = specs[0]!;
    throw new Error(`--tasks all: none of the solvers (${s.solvers.join(', ')}) can run any of the tasks (${s.tasks.join(', ')})${s.prior ? ` with prior ${s.prior}` : ''}`);
  }
  return out;
}
