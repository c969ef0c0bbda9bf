/**
 * The one image picker of the studio (inspector, run panel, compare view): the chosen image's
 * thumbnail and label on a button, a popover grid of the available images, and optionally a
 * "File…" button that brings in a PNG/.npy from disk.
 */
import { useEffect, useRef, useState } from 'react';
import type { Results } from '../../protocol/messages';

type Image = Results['images.list'][number];

function Thumb({ image, size }: { image: Image | undefined; size: number }): React.JSX.Element {
  if (image?.thumbnail)
    return (
      <img src={image.thumbnail} alt="" width={size} height={size} className="pixelated shrink-0 rounded border border-slate-200 bg-black object-cover dark:border-slate-700" />
    );
  const initials = (image?.label ?? '?').slice(0, 2).toUpperCase();
  return (
    <span
      style={{ width: size, height: size, fontSize: Math.max(9, size / 3.2) }}
      className="flex shrink-0 items-center justify-center rounded border border-slate-200 bg-slate-100 font-semibold text-slate-500 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-400"
    >
      {initials}
    </span>
  );
}

/** Props of {@link ImagePicker}. */
export interface ImagePickerProps {
  images: Image[];
  /** The chosen image's ref (may be one not in `images`, e.g. a file path from a saved graph). */
  value: string;
  onChange: (ref: string) => void;
  disabled?: boolean;
  testId: string;
  /** Adds an image from disk and resolves with its ref (undefined when the user cancels). */
  onUpload?: () => Promise<string | undefined>;
}

/** Picks one of `images` (by ref), or one from disk when `onUpload` is given. */
export function ImagePicker({ images, value, onChange, disabled, testId, onUpload }: ImagePickerProps): React.JSX.Element {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const chosen = images.find((i) => i.ref === value);

  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent): void => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);

  return (
    <div ref={box} className="relative flex min-w-0 items-center gap-2">
      <button
        type="button"
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
        aria-haspopup="listbox"
        aria-expanded={open}
        data-testid={testId}
        data-value={value}
        title={chosen?.ref ?? value}
        className="flex h-8 max-w-56 min-w-0 flex-1 items-center gap-2 rounded-md border border-slate-300 bg-white py-1 pr-2 pl-1 text-left hover:border-slate-400 disabled:opacity-50 dark:border-slate-700 dark:bg-slate-900 dark:hover:border-slate-500"
      >
        <Thumb image={chosen} size={22} />
        <span className="truncate">{chosen?.label ?? (value.split('/').at(-1) || 'choose an image')}</span>
        <span aria-hidden className="text-slate-400">
          ▾
        </span>
      </button>
      {onUpload && (
        <button
          type="button"
          disabled={disabled}
          onClick={() => void onUpload().then((ref) => ref && onChange(ref))}
          title="Use a PNG or .npy file from disk"
          className="h-8 shrink-0 rounded-md border border-slate-300 px-2 hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800"
        >
          File…
        </button>
      )}
      {open && (
        <div
          role="listbox"
          aria-label="images"
          className="absolute top-9 right-0 left-0 z-30 grid max-h-80 min-w-60 grid-cols-[repeat(auto-fill,minmax(5.5rem,1fr))] gap-2 overflow-auto rounded-lg border border-slate-200 bg-white p-2 shadow-xl dark:border-slate-700 dark:bg-slate-900"
        >
          {images.length === 0 && <p className="col-span-full p-2 text-slate-500">No images available.</p>}
          {images.map((img) => (
            <button
              key={img.ref}
              type="button"
              role="option"
              aria-selected={img.ref === value}
              title={img.ref}
              onClick={() => {
                onChange(img.ref);
                setOpen(false);
              }}
              className={`flex flex-col items-center gap-1 rounded-md p-1.5 text-[11px] leading-tight hover:bg-slate-100 dark:hover:bg-slate-800 ${img.ref === value ? 'bg-blue-50 ring-2 ring-blue-500 dark:bg-blue-950/50' : ''}`}
            >
              <Thumb image={img} size={56} />
              <span className="line-clamp-2 w-full text-center break-words text-slate-600 dark:text-slate-300">{img.label}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
