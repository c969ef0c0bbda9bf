/**
 * One parameter input rendered from its field spec (schemaFields.ts, from the kind's JSON Schema):
 * numbers with range and unit, integers, enums, booleans, strings, and JSON for structured values.
 * An optional parameter left empty is removed, so the engine applies its documented behaviour.
 */
import { useEffect, useState } from 'react';
import { parseFieldText, rangeText } from './schemaFields';
import type { FieldSpec } from './schemaFields';

const input = 'w-full rounded-md border border-slate-200 bg-white px-2 py-1 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';

export function ParamField({
  name,
  schema,
  value,
  optional,
  onChange,
  testId,
}: {
  name: string;
  schema: FieldSpec;
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
    let v: unknown;
    try {
      v = parseFieldText(schema, raw);
    } catch (e) {
      setProblem((e as Error).message);
      return;
    }
    setProblem(undefined);
    if (v !== undefined || optional || schema.default !== undefined) onChange(v);
  };

  let control: React.JSX.Element;
  if (schema.options) {
    // Choices may be numbers or booleans: the select's string value maps back to the option itself.
    const options = schema.options;
    control = (
      <select
        className={input}
        value={String(shown ?? '')}
        onChange={(e) => onChange(e.target.value === '' ? undefined : options.find((o) => String(o) === e.target.value))}
        data-testid={testId}
      >
        {optional && <option value="">(unset)</option>}
        {options.map((o) => (
          <option key={String(o)}>{String(o)}</option>
        ))}
      </select>
    );
  } else if (schema.control === 'boolean') {
    control = <input type="checkbox" className="h-4 w-4 accent-sky-600" checked={shown === true} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />;
  } else {
    const numeric = schema.control === 'number' || schema.control === 'integer';
    const multiline = schema.control === 'json';
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
