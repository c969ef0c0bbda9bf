/** Reading a JSON file validated by a zod schema, with errors that name the file and JSON path. */
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * Reads `path` and validates it with `schema`.
 * @param fail - builds the error to throw from a message (so callers keep their error class)
 * @param missingHint - appended to the message when the file does not exist
 */
export function readJsonFile<S extends z.ZodType>(path: string, schema: S, fail: (message: string) => Error, missingHint: string): z.output<S> {
  if (!existsSync(path)) throw fail(`${path}: missing; ${missingHint}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw fail(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw fail(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
