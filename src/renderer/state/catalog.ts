/**
 * What the engine offers, fetched once at start: presets, sample images, installed models and the
 * node catalogue (every kind the engine knows, plugins' included, and what the plugin loader did).
 * Until the catalogue arrives — or when the engine cannot give one — the page's bundled kinds stand in.
 */
import { create } from 'zustand';
import { nodeKinds } from '../../nodes/index';
import type { CatalogKind, CatalogPlugin } from '../../protocol/catalog';
import type { EngineClient } from '../../protocol/client';
import type { PresetSummary, Results } from '../../protocol/messages';
import { bundledCatalog, mergeKinds } from './kindCatalog';

/** Catalog store. */
export interface CatalogState {
  presets: PresetSummary[];
  images: Results['images.list'];
  models: Results['models.list'];
  /** The node kinds the editor offers, in palette order. */
  kinds: CatalogKind[];
  /** The same, by kind name. */
  kindIndex: ReadonlyMap<string, CatalogKind>;
  /** Where {@link kinds} come from: the page's bundled declarations or the engine's answer. */
  kindsFrom: 'bundled' | 'engine';
  /** What the engine's plugin loader did (loaded and refused plugins, with reasons). */
  plugins: CatalogPlugin[];
  /** Why the engine's catalogue could not be read, when it could not. */
  catalogError?: string;
  load(engine: EngineClient): Promise<void>;
  addImage(img: Results['images.list'][number]): void;
}

const bundled = bundledCatalog(nodeKinds());
const indexOf = (kinds: readonly CatalogKind[]): ReadonlyMap<string, CatalogKind> => new Map(kinds.map((k) => [k.kind, k]));

export const useCatalog = create<CatalogState>()((set, get) => ({
  presets: [],
  images: [],
  models: [],
  kinds: bundled,
  kindIndex: indexOf(bundled),
  kindsFrom: 'bundled',
  plugins: [],
  async load(engine) {
    // The node catalogue on its own: an engine that cannot list kinds leaves the bundled ones, not an empty page.
    const nodes = engine.call('nodes.catalog', {}).then(
      (cat) => {
        const kinds = mergeKinds(bundled, cat);
        set({ kinds, kindIndex: indexOf(kinds), kindsFrom: 'engine', plugins: cat.plugins ?? [], catalogError: undefined });
      },
      (e: unknown) => set({ catalogError: e instanceof Error ? e.message : String(e) }),
    );
    const [presets, images, models] = await Promise.all([engine.call('presets.list', {}), engine.call('images.list', {}), engine.call('models.list', {})]);
    set({ presets, images, models });
    await nodes;
  },
  addImage: (img) => set({ images: [img, ...get().images.filter((i) => i.ref !== img.ref)] }),
}));

/** The title of the operator kind that builds `task` (e.g. "Sparse-view CT"), else the task id. */
export const taskTitle = (task: string): string => useCatalog.getState().kinds.find((k) => k.task === task)?.title ?? task;

/** The kind `name` as the editor knows it now, or undefined (outside React; views subscribe to `kindIndex`). */
export const kindOf = (name: string): CatalogKind | undefined => useCatalog.getState().kindIndex.get(name);
