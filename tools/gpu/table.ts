/**
 * The GPU check's summary: reads what tools/gpu/device.sh's steps left in its output folder
 * (rows-*.jsonl from `gpu-bench rows`, torch-*.json from tools/gpu/torch_loop.py, device.txt)
 * and writes gpu-table.md there, the markdown that goes into docs/results/gpu.md, returning it.
 * Missing pieces (a step cut by the time budget) show as "—" with the reason underneath.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row, Timing } from './bench';

/** What tools/gpu/torch_loop.py prints (one JSON object). */
interface TorchRow {
  label: string;
  px: number;
  device: string;
  gpu?: string;
  torch: string;
  fwd_ms: number;
  wall_s: number;
  nfe: number;
  check_err: number;
}

const ms = (t: Timing): string => ('ms' in t ? t.ms.toFixed(2) : '—');
const ratio = (t: Timing, per: number): string => ('ms' in t && per > 0 ? (t.ms / per).toFixed(2) : '—');

function readJsonLines<T>(dir: string, prefix: string): T[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && (f.endsWith('.jsonl') || f.endsWith('.json')))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as T),
    );
}

/** Builds gpu-table.md in `dir` from the step outputs there and returns its text. */
export function writeTable(dir: string): string {
  const rows = readJsonLines<Row>(dir, 'rows-');
  const torch = readJsonLines<TorchRow>(dir, 'torch-');
  const device = existsSync(join(dir, 'device.txt')) ? readFileSync(join(dir, 'device.txt'), 'utf8').trim() : 'unknown device';
  const lines = [`Device: ${device}.`, ''];
  lines.push(
    '| preset | prior | px | provider | NFE/it | it | fwd ms | JS ms/it | node ms/it | fused ms/it | fused+prefetch ms/it | noise ms/it | fused ÷ fwd·NFE | fused ÷ JS |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const notes = new Set<string>();
  for (const r of rows) {
    const per = r.fwdMs * r.nfePerIt;
    lines.push(
      `| ${r.preset} | ${r.label} | ${r.px} | ${r.provider} | ${r.nfePerIt} | ${r.iterations} | ${r.fwdMs.toFixed(2)} | ${ms(r.js)} | ${ms(r.node)} | ${ms(r.fused)} | ${ms(r.prefetch)} | ${r.noiseMs.toFixed(2)} | ${ratio(r.fused, per)} | ${'ms' in r.js ? ratio(r.fused, r.js.ms) : '—'} |`,
    );
    for (const b of ['js', 'node', 'fused', 'prefetch'] as const) {
      const t = r[b];
      if ('error' in t) notes.add(`${r.preset} / ${r.label} ${r.px} px, ${b}: ${t.error}`);
    }
  }
  if (rows.length === 0) lines.push('| (no engine rows were measured) |||||||||||||| ');
  if (torch.length) {
    lines.push(
      '',
      '| DDiff | px | PyTorch device | PyTorch fwd ms | PyTorch ms/it | engine fwd ms | engine fused ms/it | engine fwd ÷ PyTorch fwd | engine fused ÷ PyTorch loop |',
      '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of torch) {
      const perIt = (1000 * t.wall_s) / t.nfe;
      const e = rows.find((r) => r.preset === 'ddiff' && r.label === t.label && r.px === t.px);
      const fused = e && 'ms' in e.fused ? e.fused.ms : undefined;
      lines.push(
        `| ${t.label} | ${t.px} | ${t.gpu ?? t.device} (torch ${t.torch}) | ${t.fwd_ms.toFixed(2)} | ${perIt.toFixed(2)} | ${e ? e.fwdMs.toFixed(2) : '—'} | ${fused?.toFixed(2) ?? '—'} | ${e ? (e.fwdMs / t.fwd_ms).toFixed(2) : '—'} | ${fused ? (fused / perIt).toFixed(2) : '—'} |`,
      );
      if (!(t.check_err <= 1e-3)) notes.add(`PyTorch ${t.label} ${t.px} px: weights check error ${t.check_err}`);
    }
  } else lines.push('', '(no PyTorch reference was measured)');
  lines.push(
    '',
    "Box inpainting, batch 1. fwd = bare ε̂ forward; fused ÷ fwd·NFE ≤ 1.10 is the goal; PyTorch: bench/torch_reference.py's DDiff loop, fp32, TF32 off, same weights and measurement.",
  );
  for (const n of notes) lines.push(`- ${n}`);
  const md = lines.join('\n') + '\n';
  writeFileSync(join(dir, 'gpu-table.md'), md);
  return md;
}
