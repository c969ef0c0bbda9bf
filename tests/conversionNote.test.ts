/** An image converted to fit the prior is said so in the run's warnings (and report.json), not silently. */
import { describe, expect, it } from 'vitest';
import { loadImage } from '../src/engine/io/prepare';

describe('image conversion note', () => {
  it('names the source, both shapes and each step; says nothing when the image already fits', async () => {
    const notes: string[] = [];
    const img = await loadImage('sample:astronaut', 32, 1, (m) => notes.push(m));
    expect(img.shape).toEqual([1, 1, 32, 32]);
    expect(notes).toEqual([
      'image sample:astronaut was converted to fit: 3×256×256 → 1×32×32 (luma of RGB, resized down to 32×32); the prior sees that image, and PSNR is measured against it',
    ]);
    const same: string[] = [];
    await loadImage('sample:astronaut', undefined, 3, (m) => same.push(m));
    expect(same).toEqual([]);
  });
});
