/**
 * The inspector: for the selected node its doc (with the formula), ports and parameters rendered
 * from the kind's JSON Schema in the node catalogue (so a plugin's kind is edited like any other),
 * with pickers for images and models; a node whose kind is unknown shows what is missing and its
 * stored parameters. With nothing selected, the graph's name, description, seed and iteration count.
 */
import { useCatalog } from '../state/catalog';
import { useDocument } from '../state/document';
import { missingKindMessage, pluginOf, storedFields, storedPorts } from '../state/kindCatalog';
import { useValidation } from '../state/validation';
import { CATEGORY_STYLE } from './categories';
import { selectionOf, setParam } from './actions';
import { layerName, paramSource } from './effective';
import { ImageField } from './ImageField';
import { ParamField } from './ParamField';
import { ParamOrigin } from './ParamOrigin';
import { portColor } from './ports';
import { fieldSpecs } from './schemaFields';
import { useUi } from './ui';

const input = 'w-full rounded-md border border-slate-200 bg-white px-2 py-1 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';

function GraphProperties(): React.JSX.Element {
  const doc = useDocument((s) => s.doc);
  const edit = useDocument((s) => s.edit);
  return (
    <div className="space-y-3 p-3" data-testid="graph-properties">
      <h2 className="text-sm font-semibold">Graph</h2>
      <label className="block">
        <span className="font-medium">name</span>
        <input className={input} value={doc.name} onChange={(e) => edit((d) => void (d.name = e.target.value || 'untitled'))} data-testid="graph-name" />
      </label>
      <label className="block">
        <span className="font-medium">description</span>
        <textarea rows={4} className={input} value={doc.description} onChange={(e) => edit((d) => void (d.description = e.target.value))} />
      </label>
      <p className="text-[11px] text-slate-500">
        {doc.nodes.length} nodes · {doc.edges.length} edges. Select a node to edit its parameters.
      </p>
    </div>
  );
}

export function Inspector(): React.JSX.Element {
  const selected = useUi((s) => s.nodes);
  const doc = useDocument((s) => s.doc);
  const errors = useValidation((s) => s.errors);
  const models = useCatalog((s) => s.models);
  const kinds = useCatalog((s) => s.kindIndex);
  const plugins = useCatalog((s) => s.plugins);
  if (selected.length !== 1) return selected.length > 1 ? <p className="p-3 text-slate-500">{selected.length} nodes selected</p> : <GraphProperties />;
  const node = doc.nodes.find((n) => n.id === selected[0]);
  if (!node) return <GraphProperties />;
  const known = kinds.get(node.kind);
  // A kind the engine does not know keeps what the document stored: its ports and parameters.
  const kind = known ?? { title: node.kind, category: 'update' as const, doc: missingKindMessage(node, plugins), ...storedPorts(doc, node.id, (k) => kinds.get(k)) };
  const fields = known ? fieldSpecs(known.params) : storedFields(node.params);
  const plugin = pluginOf(known) ?? node.plugin;
  const nodeErrors = errors.filter((e) => e.nodeId === node.id);
  const sel = selectionOf(doc);
  return (
    <div className="space-y-3 p-3" data-testid="inspector">
      <div>
        <div className="flex items-center gap-2">
          <span className={`h-2.5 w-2.5 rounded-full ${CATEGORY_STYLE[kind.category].dot}`} />
          <h2 className="text-sm font-semibold">{kind.title}</h2>
          {plugin && (
            <span className="rounded bg-slate-100 px-1 text-[10px] text-slate-500 dark:bg-slate-800 dark:text-slate-400" data-testid="inspector-plugin">
              plugin {plugin}
              {known && known.plugin !== 'builtin' ? ` ${known.plugin.version}` : ''}
            </span>
          )}
          <span className="ml-auto font-mono text-[11px] text-slate-400">{node.id}</span>
        </div>
        <p
          className={`mt-1.5 leading-relaxed ${known ? 'text-slate-600 dark:text-slate-400' : 'rounded-md bg-red-50 px-2 py-1.5 text-red-700 dark:bg-red-950 dark:text-red-300'}`}
          data-testid="inspector-doc"
        >
          {kind.doc}
        </p>
      </div>
      {nodeErrors.map((e, i) => (
        <p key={i} className="rounded-md bg-red-50 px-2 py-1.5 text-red-700 dark:bg-red-950 dark:text-red-300">
          {e.message}
        </p>
      ))}
      {sel.task !== undefined && Object.values(doc.overrides).some((t) => t[node.id]) && (
        <p className="rounded-md bg-sky-50 px-2 py-1.5 text-[11px] text-sky-800 dark:bg-sky-950 dark:text-sky-200" data-testid="inspector-task-note">
          Showing the values for {layerName(`task:${sel.task}`)}
          {sel.profile ? ` (profile ${sel.profile})` : ''}; an edit to a highlighted value changes that task only.
        </p>
      )}
      <div className="space-y-2.5">
        {fields.map((s) => {
          const name = s.name;
          const source = paramSource(doc, node.id, name);
          const value = source.value;
          const testId = `param-${name}`;
          if (node.kind === 'ImageInput' && name === 'source') {
            return (
              <div key={name}>
                <span className="font-medium">source</span>
                <ImageField value={String(value ?? s.default)} onChange={(v) => setParam(node.id, name, v)} testId={testId} />
              </div>
            );
          }
          if (node.kind === 'ScoreModel' && name === 'model' && models.length) {
            return (
              <ParamField
                key={name}
                name={name}
                schema={{ ...s, control: 'select', options: models.map((m) => m.name), description: models.find((m) => m.name === value)?.title ?? s.description }}
                value={value}
                optional
                onChange={(v) => setParam(node.id, name, v)}
                testId={testId}
              />
            );
          }
          return (
            <div key={name}>
              <ParamField name={name} schema={s} value={value} optional={!s.required && s.default === undefined} onChange={(v) => setParam(node.id, name, v)} testId={testId} />
              <ParamOrigin id={node.id} name={name} source={source} testId={testId} />
            </div>
          );
        })}
      </div>
      <div>
        <h3 className="mb-1 text-[10px] font-semibold tracking-wider text-slate-400 uppercase">Ports</h3>
        {[...kind.inputs.map((p) => ({ ...p, dir: 'in' })), ...kind.outputs.map((p) => ({ ...p, dir: 'out' }))].map((p) => (
          <p key={`${p.dir}${p.name}`} className="flex gap-1.5 py-0.5 text-[11px]">
            <span className="mt-1 h-2 w-2 shrink-0 rounded-full" style={{ background: portColor(p.type) }} />
            <span className="font-mono">
              {p.dir === 'in' ? '→' : '←'} {p.name}
            </span>
            <span className="text-slate-500">
              {p.type}
              {'optional' in p && p.optional ? ', optional' : ''} — {p.doc}
            </span>
          </p>
        ))}
      </div>
    </div>
  );
}
