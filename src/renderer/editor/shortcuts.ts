/**
 * Keyboard shortcuts of the editor (ignored while typing in a field). Ctrl+A selects every node,
 * not the page's text (a text selection would also turn the next port drag into a text drag).
 * Ctrl+G groups the selected nodes into a titled frame and lays the graph out around it;
 * Ctrl+Shift+G dissolves their groups.
 */
import { useEffect } from 'react';
import { useDocument } from '../state/document';
import type { Clip } from './actions';
import { copy, groupSelection, paste, removeElements, ungroupSelection } from './actions';
import { useUi } from './ui';

/** Handlers the shortcuts call that need the host (save, run). */
export interface ShortcutActions {
  save(): void;
  run(): void;
  open(): void;
}

let clipboard: Clip | undefined;

export function useShortcuts(actions: ShortcutActions): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select, [contenteditable="true"]')) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const doc = useDocument.getState();
      const { nodes, edges } = useUi.getState();
      const act = (fn: () => void): void => {
        e.preventDefault();
        fn();
      };
      if (mod && key === 'z' && !e.shiftKey) act(doc.undo);
      else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) act(doc.redo);
      else if (mod && key === 'c') act(() => void (clipboard = copy(nodes) ?? clipboard));
      else if (mod && key === 'x')
        act(() => {
          clipboard = copy(nodes) ?? clipboard;
          removeElements(nodes, edges);
        });
      else if (mod && key === 'v' && clipboard) act(() => useUi.getState().select(paste(clipboard!)));
      else if (mod && key === 'd')
        act(() => {
          const c = copy(nodes);
          if (c) useUi.getState().select(paste(c));
        });
      else if ((key === 'delete' || key === 'backspace') && (nodes.length || edges.length)) act(() => removeElements(nodes, edges));
      else if (mod && key === 'g' && !e.shiftKey && nodes.length)
        act(() => {
          // Laid out with the grouping (one undo step), so no other node sits inside the frame.
          if (groupSelection(nodes)) useUi.getState().requestLayout('amend');
        });
      else if (mod && key === 'g' && e.shiftKey) act(() => ungroupSelection(nodes));
      else if (mod && key === 'a') act(() => useUi.getState().select(doc.doc.nodes.map((n) => n.id)));
      else if (!mod && e.shiftKey && key === 'l') act(() => useUi.getState().requestLayout(true));
      else if (mod && key === 's') act(actions.save);
      else if (mod && key === 'o') act(actions.open);
      else if (mod && key === 'enter') act(actions.run);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [actions]);
}
