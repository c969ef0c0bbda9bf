/** Versions recorded in measurement bundles and run reports. */
import pkg from '../../package.json' with { type: 'json' };

/** The product version (package.json). */
export const LAGRANGE_VERSION: string = pkg.version;

/** Versions of everything that shapes a result: product and runtime. */
export function versions(): Record<string, string> {
  return { lagrange: LAGRANGE_VERSION, node: process.versions.node };
}
