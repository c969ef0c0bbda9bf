/**
 * Which files a page may make the engine read. A run reads whatever its graph names (ImageInput
 * source, measurement bundle, model folder, prior images, LPIPS network), and in browser mode
 * the graph comes from a web page: without this check any file the user can read could be loaded
 * and shown back. Reads are limited to the uploads folder, the bundled resources, the user's
 * models folder and folders the user allowed when starting the server.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { WireIssue } from '../protocol/messages';
import type { MeasurementSource } from '../protocol/messages';
import { withMeasurement } from '../engine/graph/edit';
import type { GraphDocument, GraphNode } from '../engine/graph/format';
import { parseGraph } from '../engine/graph/format';
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
 * Every file reference in a run request that lies outside `access`, as graph issues naming the
 * node, the parameter and the path. A document the engine would refuse anyway (format errors,
 * an impossible measurement swap) yields none: the engine reports those with its own messages.
 */
export function refusedReads(req: { doc: Record<string, unknown>; measurement?: MeasurementSource }, access: FileAccess): WireIssue[] {
  let doc: GraphDocument;
  try {
    doc = parseGraph(req.doc, 'graph');
    if (req.measurement) doc = withMeasurement(doc, req.measurement);
  } catch {
    return [];
  }
  const models = new Set(listModels().map((m) => m.name));
  const where = access.allowed.length ? `, ${access.allowed.join(', ')}` : '';
  const issues: WireIssue[] = [];
  const check = (n: GraphNode, param: string, value: unknown, path: string): void => {
    const ref = FILE_PARAMS[n.kind]?.[param];
    if (!ref || typeof value !== 'string') return;
    const file = target(ref, value, models);
    if (file === undefined || access.roots.some((root) => inside(root, real(file)))) return;
    issues.push({
      path,
      nodeId: n.id,
      message: `node "${n.id}" (${n.kind}): ${param} ${value} is outside the folders this studio may read (uploads, the bundled resources, your models folder${where}); upload the file, or start the studio with --allow <folder>`,
    });
  };
  doc.nodes.forEach((n, i) => Object.entries(n.params).forEach(([param, v]) => check(n, param, v, `nodes[${i}].params.${param}`)));
  // Overrides set parameters too (per task, per profile); check them all, selected or not.
  for (const [selector, table] of Object.entries(doc.overrides)) {
    for (const [id, params] of Object.entries(table)) {
      const n = doc.nodes.find((x) => x.id === id);
      if (n) Object.entries(params).forEach(([param, v]) => check(n, param, v, `overrides.${selector}.${id}.${param}`));
    }
  }
  return issues;
}
