/** What the engine offers, fetched once at start: presets, sample images and installed models. */
import { create } from 'zustand';
import type { EngineClient } from '../../protocol/client';
import type { PresetSummary, Results } from '../../protocol/messages';

/** Catalog store. */
export interface CatalogState {
  presets: PresetSummary[];
  images: Results['images.list'];
  models: Results['models.list'];
  load(engine: EngineClient): Promise<void>;
  addImage(img: Results['images.list'][number]): void;
}

export const useCatalog = create<CatalogState>()((set, get) => ({
  presets: [],
  images: [],
  models: [],
  async load(engine) {
    const [presets, images, models] = await Promise.all([engine.call('presets.list', {}), engine.call('images.list', {}), engine.call('models.list', {})]);
    set({ presets, images, models });
  },
  addImage: (img) => set({ images: [img, ...get().images.filter((i) => i.ref !== img.ref)] }),
}));
