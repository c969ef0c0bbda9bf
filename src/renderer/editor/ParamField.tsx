/**
 * One parameter input rendered from its JSON schema (converted from the node's zod schema):
 * numbers with range and unit, integers, enums, booleans, strings, and JSON for structured values.
 * An optional parameter left empty is removed, so the engine applies its documented behaviour.
 */
import { useEffect, useState } from 'react';

/** The JSON-schema subset zod emits for node parameters. */
export interface FieldSchema {
  type?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
  unit?: string;
}

const input = 'w-full rounded-md border border-slate-200 bg-white px-2 py-1 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';

/** "≥ 0", "> 0, ≤ 1" … */
export function rangeText(s: FieldSchema): string {
  const parts: string[] = [];
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) parts.push(`≤ ${s.maximum}`);
  return parts.join(', ');
}

/** Why `v` is outside the schema's range, or undefined. */
export function rangeProblem(s: FieldSchema, v: number): string | undefined {
  if (!Number.isFinite(v)) return 'not a number';
  if (s.type === 'integer' && !Number.isInteger(v)) return 'must be a whole number';
  if (s.minimum !== undefined && v < s.minimum) return `must be ≥ ${s.minimum}`;
  if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `must be > ${s.exclusiveMinimum}`;
  if (s.maximum !== undefined && v > s.maximum) return `must be ≤ ${s.maximum}`;
  return undefined;
}

export function ParamField({
  name,
  schema,
  value,
  optional,
  onChange,
  testId,
}: {
  name: string;
  schema: FieldSchema;
  value: unknown;
  optional: boolean;
  onChange: (v: unknown) => void;
  testId: string;
}): React.JSX.Element {
  const shown = value ?? schema.default;
  const [text, setText] = useState(shown === undefined ? '' : typeof shown === 'object' ? JSON.stringify(shown) : String(shown));
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setText(shown === undefined ? '' : typeof shown === 'object' ? JSON.stringify(shown) : String(shown));
    setProblem(undefined);
  }, [shown]);

  const commit = (raw: string): void => {
    if (raw.trim() === '') {
      if (optional || schema.default !== undefined) onChange(undefined);
      setProblem(undefined);
      return;
    }
    if (schema.type === 'number' || schema.type === 'integer') {
      const v = Number(raw);
      const why = rangeProblem(schema, v);
      setProblem(why);
      if (!why) onChange(v);
    } else if (schema.type === 'array' || schema.type === 'object') {
      try {
        onChange(JSON.parse(raw));
        setProblem(undefined);
      } catch (e) {
        setProblem(`not valid JSON: ${(e as Error).message}`);
      }
    } else onChange(raw);
  };

  let control: React.JSX.Element;
  if (schema.enum) {
    control = (
      <select className={input} value={String(shown ?? '')} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {optional && <option value="">(unset)</option>}
        {schema.enum.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    );
  } else if (schema.type === 'boolean') {
    control = <input type="checkbox" className="h-4 w-4 accent-sky-600" checked={shown === true} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />;
  } else {
    const numeric = schema.type === 'number' || schema.type === 'integer';
    const multiline = schema.type === 'array' || schema.type === 'object';
    const props = {
      className: `${input} ${numeric ? 'font-mono' : ''} ${problem ? 'border-red-400' : ''}`,
      value: text,
      placeholder: optional ? 'unset' : '',
      onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setText(e.target.value),
      onBlur: () => commit(text),
      'data-testid': testId,
    };
    control = multiline ? <textarea rows={3} {...props} /> : <input inputMode={numeric ? 'decimal' : 'text'} onKeyDown={(e) => e.key === 'Enter' && commit(text)} {...props} />;
  }
  const range = rangeText(schema);
  return (
    <label className="block" title={schema.description}>
      <div className="mb-0.5 flex items-baseline gap-1.5">
        <span className="font-medium">{name}</span>
        {schema.unit && <span className="text-[11px] text-slate-400">[{schema.unit}]</span>}
        {range && <span className="ml-auto font-mono text-[10px] text-slate-400">{range}</span>}
      </div>
      {control}
      {problem && <p className="mt-0.5 text-[11px] text-red-600">{problem}</p>}
      {schema.description && !problem && <p className="mt-0.5 text-[11px] text-slate-500">{schema.description}</p>}
    </label>
  );
}
