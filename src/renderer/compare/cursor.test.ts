/** The charts' cursor at the slider's place: against the fraction of the runs, or per entry against NFE. */
import { describe, expect, it } from 'vitest';
import { cursorAt } from './Charts';
import type { EntryRun } from './state';

const run = (over: Partial<EntryRun>): EntryRun => ({ status: 'running', K: 100, iteration: 0, nfe: 0, elapsedMs: 0, frames: [], metrics: [], sameInputs: true, ...over });
const entries = [
  { name: 'ddiff', label: 'DDiff', color: '#00f' },
  { name: 'daps', label: 'DAPS', color: '#f00' },
];

describe('cursorAt', () => {
  it('puts one cursor at the slider’s percentage of the runs', () => {
    expect(cursorAt(250, 'fraction', entries, {})).toEqual([{ x: 25, color: '#64748b' }]);
  });

  it('puts one cursor per entry at the NFE its run reaches at that fraction, from its NFE per iteration', () => {
    const runs = {
      ddiff: run({ K: 100, iteration: 49, nfe: 50 }), // 1 NFE per iteration, half way
      daps: run({ K: 200, iteration: 9, nfe: 60 }), // 6 NFE per iteration so far
    };
    expect(cursorAt(500, 'nfe', entries, runs)).toEqual([
      { x: 50, color: '#00f' },
      { x: 600, color: '#f00' },
    ]);
    // A run that has not reported yet has no cursor.
    expect(cursorAt(500, 'nfe', entries, { ddiff: run({}) })).toEqual([]);
  });
});
