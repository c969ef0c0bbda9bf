/**
 * How the CLI reports failure: one line on stderr, non-zero exit, the stack only when asked for
 * (LAGRANGE_DEBUG=1 or --debug).
 */

/** A user error found by the CLI itself (bad option value, missing file, …). */
export class CliError extends Error {
  override name = 'CliError';
}

/** The one-line form of any error. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `lagrange: ${msg.split('\n')[0]}`;
}

/** Parses a number option, or throws a CliError naming the option. */
export function numberOption(name: string, text: string, check?: (v: number) => string | undefined): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new CliError(`${name} must be a number, got '${text}'`);
  const why = check?.(v);
  if (why) throw new CliError(`${name} ${why}, got ${text}`);
  return v;
}

/** Parses an integer option, or throws a CliError naming the option. */
export function intOption(name: string, text: string, min = -Infinity): number {
  return numberOption(name, text, (v) => (!Number.isInteger(v) ? 'must be an integer' : v < min ? `must be ≥ ${min}` : undefined));
}
