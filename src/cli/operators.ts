/**
 * `lagrange operators list` and `lagrange operators check <target>`: the registered measurement
 * operators (built-in and from plugins) with their capabilities and how their proxL2 is done, and
 * the conformance suite (`checkOperatorSpec`) on one of them at a chosen image size. A target that
 * is not a registered operator name is taken as an ONNX operator folder (operatorFolder.ts).
 */
import { checkOperatorSpec, formatCheck } from '../engine/operators/check';
import type { CheckResult } from '../engine/operators/check';
import { specGetsCgProx } from '../engine/operators/cgProx';
import { instantiateOperator, OperatorError, operatorOrigin, operatorSpecs } from '../engine/operators/registry';
import type { OperatorSpec, ProxMethod } from '../engine/operators/types';
import { shapeStr } from '../engine/tensor/tensor';
import { CliError } from './errors';
import { checkOperatorFolder, isOperatorFolder } from './operatorFolder';

/** One row of `operators list`. */
export interface OperatorRow {
  id: string;
  title: string;
  linear: boolean;
  /** The capabilities instances have, proxL2 included where the registry adds the CG one. */
  capabilities: string[];
  /** How proxL2 is computed, or undefined without one ('own' when the instance could not be built to ask). */
  prox?: ProxMethod | 'own';
  /** `builtin` or the plugin's name. */
  origin: string;
}

// The size `list` builds an instance at to ask how its proxL2 is done (cheap, and every built-in supports it).
const PROBE_SHAPE = [1, 32, 32];

function proxOf(spec: OperatorSpec): OperatorRow['prox'] {
  if (specGetsCgProx(spec)) return 'cg';
  if (!spec.capabilities.includes('proxL2')) return undefined;
  try {
    return instantiateOperator(spec, { shape: PROBE_SHAPE }).proxMethod ?? 'own';
  } catch {
    return 'own';
  }
}

/** Every registered operator, in registry order. */
export function operatorRows(): OperatorRow[] {
  return operatorSpecs().map((spec) => {
    const prox = proxOf(spec);
    const capabilities = [...spec.capabilities.filter((c) => c !== 'proxL2'), ...(prox ? ['proxL2'] : [])];
    return { id: spec.id, title: spec.title, linear: spec.linear, capabilities, ...(prox ? { prox } : {}), origin: operatorOrigin(spec.id) ?? 'builtin' };
  });
}

const PROX_TEXT: Record<NonNullable<OperatorRow['prox']>, string> = { 'closed-form': 'closed form', iterative: "operator's own solver", cg: 'engine CG', own: "operator's own" };

/** The lines of `lagrange operators list` (a table, or one JSON line). */
export function operatorsList(json = false): string[] {
  const rows = operatorRows();
  if (json) return [JSON.stringify(rows)];
  const table = rows.map((r) => [
    r.id,
    r.title,
    r.linear ? 'yes' : 'no',
    r.capabilities.map((c) => (c === 'proxL2' && r.prox ? `proxL2 (${PROX_TEXT[r.prox]})` : c)).join(', ') || 'apply only',
    r.origin,
  ]);
  const head = ['id', 'title', 'linear', 'capabilities', 'origin'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...table.map(line)];
}

/** Options of {@link operatorsCheck}. */
export interface OperatorsCheckOptions {
  /** Image side H = W (default 32). */
  size?: number;
  /** Channels C (default 3). */
  channels?: number;
  /** Instance and probe seed (default 0). */
  seed?: number;
  json?: boolean;
}

/** The outcome of `operators check`: the lines to print, and on failure the failing properties. */
export interface OperatorsCheckResult {
  ok: boolean;
  lines: string[];
  /** `<property>: <message>` of every failing check (formatCheck), when one failed. */
  failure?: string;
  result?: CheckResult;
}

/**
 * `lagrange operators check <target>`: a registered operator name is built at C×size×size and run
 * through {@link checkOperatorSpec}; otherwise `target` must be an ONNX operator folder.
 * @throws CliError for a target that is neither, or a size the operator does not support
 */
export function operatorsCheck(target: string, opts: OperatorsCheckOptions = {}): OperatorsCheckResult {
  const spec = operatorSpecs().find((s) => s.id === target);
  if (!spec) {
    if (isOperatorFolder(target)) return checkOperatorFolder(target, opts.json === true);
    throw new CliError(
      `'${target}' is neither a registered operator (${operatorSpecs()
        .map((s) => s.id)
        .join(', ')}) nor an operator folder (no operator.json there)`,
    );
  }
  const shape = [opts.channels ?? 3, opts.size ?? 32, opts.size ?? 32];
  const seed = opts.seed ?? 0;
  let result: CheckResult, header: string;
  try {
    result = checkOperatorSpec(spec, shape, { seed });
    const op = instantiateOperator(spec, { shape, seed });
    const prox = op.proxMethod ? `, proxL2 ${PROX_TEXT[op.proxMethod]}` : '';
    header = `operator ${spec.id} (${operatorOrigin(spec.id) ?? 'builtin'}): ${spec.linear ? 'linear' : 'nonlinear'}, ${shapeStr(op.inShape)} → ${shapeStr(op.outShape)}${prox}, seed ${seed}`;
  } catch (e) {
    if (e instanceof OperatorError) throw new CliError(`${e.message}; choose another --size/--channels`, { cause: e });
    throw e;
  }
  const failure = result.ok ? undefined : formatCheck(result);
  if (opts.json)
    return { ok: result.ok, lines: [JSON.stringify({ ok: result.ok, operator: spec.id, shape, seed, checks: result.checks })], result, ...(failure ? { failure } : {}) };
  const lines = [
    header,
    ...result.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.message}`),
    result.ok ? 'ok: the operator passes every check that applies' : `failed: ${result.checks.filter((c) => !c.ok).length} of ${result.checks.length} checks`,
  ];
  return { ok: result.ok, lines, result, ...(failure ? { failure } : {}) };
}
