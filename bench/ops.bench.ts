/**
 * `npm run bench:ops` — apply and adjoint (vjp for nonlinear operators) throughput of every
 * registered operator at 64×64 and 256×256 (one RGB image), next to a bare 2-D FFT of the same
 * grid (three channels). The last columns are ratios measured in this run: operator time / FFT time.
 */
import { createOperator, operatorSpecs } from '../src/engine/operators/registry';
import { fft2 } from '../src/engine/tensor/fft';
import { createRng } from '../src/engine/tensor/rng';
import { tensor } from '../src/engine/tensor/tensor';
import { fmt, opsPerSecond } from './timing';

const rows: string[][] = [['operator', 'size', 'apply/s', 'adj|vjp/s', 'fft2×3/s', 'apply÷fft', 'adj÷fft']];
for (const side of [64, 256]) {
  const grid = new Float64Array(2 * side * side);
  const fftRate = opsPerSecond(() => {
    for (let c = 0; c < 3; c++) fft2(grid, side, side);
  });
  const rng = createRng(0, 'bench');
  for (const spec of operatorSpecs()) {
    const shape = [3, side, side];
    if (spec.checkShape?.(shape)) continue;
    const op = createOperator(spec.id, { shape, seed: 0 });
    const x = spec.testInput ? spec.testInput(shape, rng) : tensor([1, ...shape]);
    if (!spec.testInput) rng.fillNormal(x.data, 0.3);
    const y = op.apply(x);
    const applyRate = opsPerSecond(() => op.apply(x));
    const back = op.adjoint ? () => op.adjoint!(y) : op.vjp ? () => op.vjp!(x, y) : undefined;
    const backRate = back ? opsPerSecond(back) : NaN;
    rows.push([spec.id, `${side}`, fmt(applyRate), back ? fmt(backRate) : '—', fmt(fftRate), (fftRate / applyRate).toFixed(2), back ? (fftRate / backRate).toFixed(2) : '—']);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log('\nratios: time of one operator call ÷ time of three H×W complex 2-D FFTs (fft.js), same run.');

// Phase retrieval's padded grid is 1.5× the side (not a power of two): Bluestein vs radix-4.
console.log('\nFFT plans (one 2-D transform):');
for (const [odd, pow2] of [
  [48, 64],
  [96, 128],
  [384, 512],
] as const) {
  const a = new Float64Array(2 * odd * odd),
    b = new Float64Array(2 * pow2 * pow2);
  const ra = opsPerSecond(() => fft2(a, odd, odd), 250),
    rb = opsPerSecond(() => fft2(b, pow2, pow2), 250);
  console.log(`  ${odd}×${odd} Bluestein ${fmt(ra)}/s   ${pow2}×${pow2} radix-4 ${fmt(rb)}/s   time ratio ${(rb / ra).toFixed(2)}`);
}
