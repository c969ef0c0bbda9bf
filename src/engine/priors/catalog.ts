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

/** The user's model folder. */
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

function scan(root: string, origin: ModelEntry['origin']): ModelEntry[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'model.json')) && statSync(join(root, d)).isDirectory())
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

/** Bundled models, then the user's. */
export function listModels(): ModelEntry[] {
  return [...scan(MODELS_DIR, 'bundled'), ...scan(userModelsDir(), 'user')];
}

/** A model folder from a path, or a bundled or user model's name. */
export function resolveModelDir(nameOrPath: string): string {
  if (existsSync(join(nameOrPath, 'model.json'))) return nameOrPath;
  const hit = listModels().find((m) => m.name === nameOrPath);
  if (hit) return hit.dir;
  const known = listModels().map((m) => m.name);
  throw new ModelError(`${nameOrPath}: no model folder (with model.json) and no installed model of that name; models: ${known.join(', ') || 'none'} (bundled in ${MODELS_DIR}, yours in ${userModelsDir()})`);
}
