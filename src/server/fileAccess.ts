/**
 * Which files a page may make the engine read. A run reads whatever its graph names (ImageInput
 * source, measurement bundle, model folder, prior images, LPIPS network), and in browser mode
 * the graph comes from a web page: without this check any file the user can read could be loaded
 * and shown back. Reads are limited to the uploads folder, the bundled resources, the user's
 * models folder and folders the user allowed when starting the server.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { WireIssue } from '../protocol/messages';
import type { GraphDocument, GraphNode } from '../engine/graph/format';
import { ONNX_OPERATOR_ID } from '../engine/operators/onnx/load';
import { MODELS_DIR, SAMPLES_DIR } from '../engine/io/prepare';
import { listModels, userModelsDir } from '../engine/priors/catalog';

/** How a parameter names a file: an image source, a file or folder path, or a model (name or folder). */
type Ref = 'image' | 'path' | 'model';

/**
 * Every node parameter that names something on disk, by node kind. tests/server.files.test.ts
 * checks that each string parameter of every node kind is either here or known not to be a path.
 */
export const FILE_PARAMS: Readonly<Record<string, Readonly<Record<string, Ref>>>> = {
  ImageInput: { source: 'image' },
  MeasurementInput: { path: 'path' },
  ScoreModel: { model: 'model', meanImage: 'image', stdImage: 'image' },
  Metrics: { lpips: 'path' },
  OnnxOperator: { path: 'path' },
  // Latent models: a model name (bundled, then the user's) or a model folder, as ScoreModel's.
  Encoder: { model: 'model' },
  Decoder: { model: 'model' },
  LatentScoreModel: { model: 'model' },
  LatentXUpdate: { model: 'model' },
  LatentMCMC: { model: 'model' },
};

/** The folders runs may read from, resolved through links. */
export interface FileAccess {
  readonly roots: readonly string[];
  /** The folders the user allowed (as given), for messages. */
  readonly allowed: readonly string[];
}

/** The real path of `p`: links resolved in its longest existing ancestor, the rest appended. */
function real(p: string): string {
  const tail: string[] = [];
  for (let head = resolve(p); ; head = dirname(head)) {
    try {
      return join(realpathSync(head), ...tail);
    } catch {
      if (dirname(head) === head) return resolve(p);
      tail.unshift(basename(head));
    }
  }
}

/** Whether `file` lies in folder `root` (or is it). */
function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The access of one server: `uploadsDir`, the bundled resources (samples, models, presets), the
 * user's models folder (`$LAGRANGE_MODELS` or ~/.lagrange/models) and the `allow`ed folders.
 */
export function fileAccess(o: { uploadsDir: string; allow?: readonly string[] }): FileAccess {
  const allowed = (o.allow ?? []).map((d) => resolve(d));
  return { roots: [o.uploadsDir, dirname(MODELS_DIR), SAMPLES_DIR, MODELS_DIR, userModelsDir(), ...allowed].map(real), allowed };
}

/** The path the engine reads for reference `value` of kind `ref` (mirrors io/prepare and priors/catalog). */
function target(ref: Ref, value: string, models: ReadonlySet<string>): string | undefined {
  if (ref === 'image' && value.startsWith('sample:')) return join(SAMPLES_DIR, `${value.slice(7)}.png`);
  if (ref === 'image' && value.startsWith('model:')) return join(MODELS_DIR, value.slice(6));
  // An installed model's name is looked up in the models folders, unless a model folder of that name is here.
  if (ref === 'model' && models.has(value) && !existsSync(join(value, 'model.json'))) return undefined;
  return resolve(value);
}

/**
 * The ONNX operator folder a measurement bundle's task.json names (task `onnx-operator`, its
 * `params.path`, resolved as the engine resolves it), or undefined for any other bundle. A
 * task.json that cannot be read names nothing here; the engine reports it when the run reads it.
 */
function bundleOperatorFolder(bundle: string): string | undefined {
  try {
    const record = JSON.parse(readFileSync(join(bundle, 'task.json'), 'utf8')) as { task?: unknown; params?: { path?: unknown } };
    return record.task === ONNX_OPERATOR_ID && typeof record.params?.path === 'string' ? resolve(record.params.path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every file reference of a run's document (parsed, measurement applied) that lies outside
 * `access`, as graph issues naming the node, the parameter and the path. A measurement bundle is
 * followed one step: the ONNX operator folder its task.json names must lie inside too.
 */
export function refusedReads(doc: Pick<GraphDocument, 'nodes' | 'overrides'>, access: FileAccess): WireIssue[] {
  const models = new Set(listModels().map((m) => m.name));
  const where = access.allowed.length ? `, ${access.allowed.join(', ')}` : '';
  const issues: WireIssue[] = [];
  const allowed = (file: string): boolean => access.roots.some((root) => inside(root, real(file)));
  const outsideText = `is outside the folders this studio may read (uploads, the bundled resources, your models folder${where}); upload the file, or start the studio with --allow <folder>`;
  const check = (n: GraphNode, param: string, value: unknown, path: string): void => {
    const ref = FILE_PARAMS[n.kind]?.[param];
    if (!ref || typeof value !== 'string') return;
    const file = target(ref, value, models);
    if (file === undefined) return;
    if (!allowed(file)) {
      issues.push({ path, nodeId: n.id, message: `node "${n.id}" (${n.kind}): ${param} ${value} ${outsideText}` });
      return;
    }
    const folder = n.kind === 'MeasurementInput' ? bundleOperatorFolder(file) : undefined;
    if (folder !== undefined && !allowed(folder))
      issues.push({ path, nodeId: n.id, message: `node "${n.id}" (${n.kind}): ${join(value, 'task.json')} names the ONNX operator folder ${folder}, which ${outsideText}` });
  };
  doc.nodes.forEach((n, i) => Object.entries(n.params).forEach(([param, v]) => check(n, param, v, `nodes[${i}].params.${param}`)));
  // Overrides set parameters too (per task, per profile); check them all, selected or not.
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  for (const [selector, table] of Object.entries(doc.overrides)) {
    for (const [id, params] of Object.entries(table)) {
      const n = byId.get(id);
      if (n) Object.entries(params).forEach(([param, v]) => check(n, param, v, `overrides.${selector}.${id}.${param}`));
    }
  }
  return issues;
}
