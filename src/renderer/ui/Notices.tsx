/** Transient notices (saved, refused connection, errors) in the bottom-right corner. */
import { useUi } from '../editor/ui';

const TONE = {
  info: 'border-sky-200 bg-white text-slate-800 dark:border-sky-900 dark:bg-slate-900 dark:text-slate-100',
  success: 'border-emerald-200 bg-emerald-50 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100',
  error: 'border-red-200 bg-red-50 text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-100',
};

export function Notices(): React.JSX.Element {
  const { notices, dismiss } = useUi();
  return (
    <div className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-96 flex-col gap-2">
      {notices.map((n) => (
        <div
          key={n.id}
          role="status"
          className={`pointer-events-auto flex items-start gap-2 rounded-lg border px-3 py-2 shadow-lg ${TONE[n.tone]}`}
          data-testid={`notice-${n.tone}`}
        >
          <span className="flex-1">{n.text}</span>
          <button className="opacity-50 hover:opacity-100" onClick={() => dismiss(n.id)} aria-label="dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
