/** Shows a wire {@link Frame} (base64 RGBA) on a canvas scaled with nearest-neighbour pixels. */
import { useEffect, useRef } from 'react';
import type { Frame } from '../../protocol/messages';
import { base64ToBytes } from '../host/base64';

/** Decodes a frame's pixels. */
export function frameImageData(frame: Frame): ImageData {
  const bytes = base64ToBytes(frame.rgba);
  return new ImageData(new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.length), frame.width, frame.height);
}

/** A frame drawn at `size` CSS pixels wide (height by aspect). */
export function FrameCanvas({ frame, size = 160, testId, title }: { frame: Frame | undefined; size?: number; testId?: string; title?: string }): React.JSX.Element {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx && frame) ctx.putImageData(frameImageData(frame), 0, 0);
  }, [frame]);
  const h = frame ? Math.round((size * frame.height) / frame.width) : size;
  if (!frame) {
    return (
      <div
        style={{ width: size, height: size }}
        className="rounded-md border border-dashed border-slate-300 bg-slate-100 dark:border-slate-700 dark:bg-slate-900"
        title={title}
        data-testid={testId}
      />
    );
  }
  return (
    <canvas
      ref={ref}
      width={frame.width}
      height={frame.height}
      style={{ width: size, height: h }}
      className="pixelated rounded-md border border-slate-200 bg-black dark:border-slate-700"
      data-testid={testId}
      title={title}
    />
  );
}

/** A PNG data URL of a frame (for downloads). */
export function frameToPngDataUrl(frame: Frame): string {
  const c = document.createElement('canvas');
  c.width = frame.width;
  c.height = frame.height;
  c.getContext('2d')!.putImageData(frameImageData(frame), 0, 0);
  return c.toDataURL('image/png');
}
