/**
 * The one slider shared by every column: a position over the fraction of the run (0–100 %), with
 * Play (animates from the start, or from where it is, to the end) and an "end" shortcut.
 */
import { useEffect } from 'react';
import { SLIDER_MAX } from './logic';

/** Seconds Play takes from 0 to 100 %. */
const PLAY_SECONDS = 6;

export interface SliderProps {
  position: number;
  onPosition: React.Dispatch<React.SetStateAction<number>>;
  playing: boolean;
  onPlaying: (p: boolean) => void;
  disabled?: boolean;
}

/** Shared run-fraction slider. */
export function Slider({ position, onPosition, playing, onPlaying, disabled }: SliderProps): React.JSX.Element {
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let frame = requestAnimationFrame(function tick(now) {
      const step = ((now - last) / 1000 / PLAY_SECONDS) * SLIDER_MAX;
      last = now;
      onPosition((p) => Math.min(SLIDER_MAX, p + step));
      frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, onPosition]);

  useEffect(() => {
    if (playing && position >= SLIDER_MAX) onPlaying(false);
  }, [playing, position, onPlaying]);

  const pct = (position / SLIDER_MAX) * 100;
  const atEnd = position >= SLIDER_MAX;
  return (
    <div className="flex items-center gap-3 rounded-lg border border-slate-200 bg-white px-3 py-2 dark:border-slate-800 dark:bg-slate-900">
      <button
        type="button"
        disabled={disabled}
        onClick={() => {
          if (playing) return onPlaying(false);
          if (atEnd) onPosition(0);
          onPlaying(true);
        }}
        data-testid="compare-play"
        aria-label={playing ? 'Pause' : 'Play'}
        title={playing ? 'Pause' : 'Play the runs side by side'}
        className="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-blue-600 text-white hover:bg-blue-500 disabled:opacity-40 dark:bg-blue-500 dark:hover:bg-blue-400"
      >
        {playing ? (
          <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden>
            <rect x="2" y="1" width="3" height="10" fill="currentColor" />
            <rect x="7" y="1" width="3" height="10" fill="currentColor" />
          </svg>
        ) : (
          <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden>
            <path d="M3 1.5v9l7.5-4.5z" fill="currentColor" />
          </svg>
        )}
      </button>
      <span className="w-24 shrink-0 text-[11px] font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">run fraction</span>
      <input
        type="range"
        min={0}
        max={SLIDER_MAX}
        step={1}
        value={Math.round(position)}
        disabled={disabled}
        onChange={(e) => {
          onPlaying(false);
          onPosition(Number(e.target.value));
        }}
        aria-label="fraction of each run"
        aria-valuetext={`${pct.toFixed(1)} % of each run`}
        data-testid="compare-slider"
        className="h-2 min-w-0 flex-1 cursor-pointer accent-blue-600 dark:accent-blue-400"
      />
      <span className="w-14 shrink-0 text-right font-mono text-[13px] tabular-nums text-slate-700 dark:text-slate-200">{pct.toFixed(pct < 10 ? 1 : 0)} %</span>
      <button
        type="button"
        disabled={disabled || atEnd}
        onClick={() => {
          onPlaying(false);
          onPosition(SLIDER_MAX);
        }}
        title="Jump to the end (follows running solvers live; shows final results)"
        className="h-7 shrink-0 rounded-md border border-slate-300 px-2 text-xs text-slate-600 hover:bg-slate-100 disabled:opacity-40 dark:border-slate-700 dark:text-slate-300 dark:hover:bg-slate-800"
      >
        End ⇥
      </button>
    </div>
  );
}
