/** UI state that is neither document nor run: selection, notices, which view and dialog is open. */
import { create } from 'zustand';

/** A transient message for the user. */
export interface Notice {
  id: number;
  tone: 'info' | 'error' | 'success';
  text: string;
}

/** UI store. */
export interface UiState {
  nodes: string[];
  edges: string[];
  notices: Notice[];
  view: 'editor' | 'compare';
  gallery: boolean;
  /** Nodes to select on the canvas once they exist (pasted or added); the canvas clears it. */
  focus?: string[];
  /**
   * An auto-layout the canvas is to do once the document's nodes are measured: `undoable` for the
   * user's request, `'amend'` as part of the last edit (an inserted template), else (just opened)
   * the positions become part of the opened document.
   */
  layout?: { undoable: boolean | 'amend' };
  setSelection(nodes: string[], edges: string[]): void;
  notify(n: Omit<Notice, 'id'>): void;
  dismiss(id: number): void;
  setView(v: UiState['view']): void;
  setGallery(open: boolean): void;
  select(ids: string[] | undefined): void;
  requestLayout(undoable: boolean | 'amend'): void;
  layoutDone(): void;
}

let nextNotice = 1;

export const useUi = create<UiState>()((set, get) => ({
  nodes: [],
  edges: [],
  notices: [],
  view: 'editor',
  gallery: false,
  setSelection: (nodes, edges) => set({ nodes, edges }),
  notify(n) {
    const id = nextNotice++;
    set({ notices: [...get().notices.slice(-3), { ...n, id }] });
    setTimeout(() => get().dismiss(id), n.tone === 'error' ? 8000 : 4000);
  },
  dismiss: (id) => set({ notices: get().notices.filter((n) => n.id !== id) }),
  setView: (view) => set({ view }),
  setGallery: (gallery) => set({ gallery }),
  select: (focus) => set({ focus }),
  requestLayout: (undoable) => set({ layout: { undoable } }),
  layoutDone: () => set({ layout: undefined }),
}));
