/**
 * Joining an executor to its node kind's declaration, in a module of its own so that executor
 * tables in other files (latentExecutors.ts) can use it without importing executors.ts's values.
 */
import type { z } from 'zod';
import type { NodeKind } from '../../nodes/index';
import type { Tensor } from '../tensor/tensor';
import type { Executor, StepContext } from './executors';

/** An executor typed by its kind's declared parameters (the schema's output: defaults filled in). */
export type KindExecutor<K extends NodeKind> = (ctx: StepContext<z.output<K['params']>>) => Promise<Record<string, Tensor>>;

/**
 * Joins an executor to its kind's declaration: the table entry is keyed by the declaration's
 * name, and the executor sees the parameters as the schema types them. The compiler hands every
 * step its parameters parsed by that schema (`paramsOf`), which is what makes the narrowing sound.
 */
export function bind<K extends NodeKind>(kind: K, run: KindExecutor<K>): [string, Executor] {
  return [kind.kind, (ctx) => run(ctx as StepContext<z.output<K['params']>>)];
}
