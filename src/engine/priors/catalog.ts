/**
 * Where score models live: the bundled ones (`resources/models`) and the user's folder
 * (`LAGRANGE_MODELS`, default `~/.lagrange/models`). A model is a folder with `model.json`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR } from '../io/prepare';
import type { ModelCard } from './modelCard';
import { readModelCard } from './modelCard';
import { ModelError } from './onnxPrior';

/** The user's model folder: `$LAGRANGE_MODELS`, else `~/.lagrange/models`. */
export function userModelsDir(): string {
  return process.env.LAGRANGE_MODELS || join(homedir(), '.lagrange', 'models');
}

/** A model found on disk; an unreadable card is listed with its error rather than thrown. */
export interface ModelEntry {
  name: string;
  dir: string;
  origin: 'bundled' | 'user';
  card?: ModelCard;
  error?: string;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

function scan(root: string, origin: ModelEntry['origin']): ModelEntry[] {
  // A missing folder (or LAGRANGE_MODELS naming a file) just holds no models.
  if (!isDir(root)) return [];
  return readdirSync(root)
    .filter((d) => isDir(join(root, d)) && existsSync(join(root, d, 'model.json')))
    .sort()
    .map((name) => {
      const dir = join(root, name);
      try {
        return { name, dir, origin, card: readModelCard(dir) };
      } catch (e) {
        return { name, dir, origin, error: (e as Error).message };
      }
    });
}

/** The bundled models, then the user's (subfolders with `model.json`), each sorted by name. */
export function listModels(): ModelEntry[] {
  return [...scan(MODELS_DIR, 'bundled'), ...scan(userModelsDir(), 'user')];
}

/**
 * A model folder from a path to one, or a bundled or user model's name (bundled first).
 * @throws ModelError naming the known models when neither matches
 */
export function resolveModelDir(nameOrPath: string): string {
  if (existsSync(join(nameOrPath, 'model.json'))) return nameOrPath;
  const models = listModels();
  const hit = models.find((m) => m.name === nameOrPath);
  if (hit) return hit.dir;
  const why = isDir(nameOrPath) ? 'a folder without model.json' : 'no model folder and no installed model of that name';
  const known = models.map((m) => m.name).join(', ') || 'none';
  throw new ModelError(`${nameOrPath}: ${why}; models: ${known} (bundled in ${MODELS_DIR}, yours in ${userModelsDir()})`);
}
