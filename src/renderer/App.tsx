/**
 * The studio page: preset list, the solver graph (read-only in this build), a Run button with the
 * task, and live previews and metrics. Document state (the graph) and run state (progress,
 * previews, report) are kept apart; only the document would ever be saved.
 */
import { Background, Controls, ReactFlow } from '@xyflow/react';
import type { Edge, Node } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { operatorNodes } from '../nodes/index';
import type { EngineClient, GraphDoc, PresetInfo, RunEvent } from './engineClient';

const TASKS = operatorNodes.map((k) => k.task);

interface RunState {
  status: 'idle' | 'running' | 'done' | 'error';
  progress?: { iteration: number; of: number; nfe: number };
  preview?: { width: number; height: number; rgba: string; iteration: number };
  summary?: string;
  error?: string;
}

/** React Flow's view of the document; the operator node shows the kind the chosen task runs. */
function toFlow(doc: GraphDoc, task: string): { nodes: Node[]; edges: Edge[] } {
  const taskKind = operatorNodes.find((k) => k.task === task)?.kind;
  const kindOf = (kind: string): string => (taskKind && operatorNodes.some((k) => k.kind === kind) ? taskKind : kind);
  return {
    nodes: doc.nodes.map((n) => ({ id: n.id, position: n.position ?? { x: 0, y: 0 }, data: { label: `${kindOf(n.kind)} · ${n.id}` } })),
    edges: doc.edges.map((e, i) => ({ id: `e${i}`, source: e.source, target: e.target, label: `${e.sourcePort}→${e.targetPort}` })),
  };
}

function Preview({ frame }: { frame: NonNullable<RunState['preview']> }): React.JSX.Element {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const bytes = Uint8ClampedArray.from(atob(frame.rgba), (c) => c.charCodeAt(0));
    ctx.putImageData(new ImageData(bytes, frame.width, frame.height), 0, 0);
  }, [frame]);
  return <canvas ref={ref} width={frame.width} height={frame.height} data-testid="preview" className="preview" />;
}

/** The studio. */
export function App({ engine }: { engine: EngineClient }): React.JSX.Element {
  const [presets, setPresets] = useState<PresetInfo[]>([]);
  const [selected, setSelected] = useState('ddiff');
  const [doc, setDoc] = useState<GraphDoc>();
  const [task, setTask] = useState('inpaint-box');
  const [run, setRun] = useState<RunState>({ status: 'idle' });

  useEffect(() => void engine.presets().then(setPresets), [engine]);
  useEffect(() => void engine.preset(selected).then(setDoc), [engine, selected]);
  const flow = useMemo(() => (doc ? toFlow(doc, task) : { nodes: [], edges: [] }), [doc, task]);

  const start = async (): Promise<void> => {
    setRun({ status: 'running' });
    await engine.run({ preset: selected, task, samples: 1 }, (e: RunEvent) => {
      setRun((r) => {
        if (e.type === 'progress') return { ...r, progress: e };
        if (e.type === 'preview') return { ...r, preview: e };
        if (e.type === 'error') return { ...r, status: 'error', error: e.message };
        if (e.type === 'cancelled') return { ...r, status: 'idle' };
        if (e.type === 'done') {
          const m = e.report.metrics;
          const psnr = m?.psnr ? `PSNR ${m.psnr[0]!.toFixed(2)} dB · ` : '';
          const ssim = m?.ssim ? `SSIM ${m.ssim[0]!.toFixed(3)} · ` : '';
          return { ...r, status: 'done', summary: `${psnr}${ssim}residual ${m?.residual[0]?.toFixed(3)} · ${e.report.nfe} NFE in ${(e.report.wallMs / 1000).toFixed(2)} s · ${e.report.provider}, seed ${e.report.seed}` };
        }
        return r;
      });
    });
  };

  return (
    <div className="studio">
      <aside className="presets">
        <h1>Lagrange Studio</h1>
        {presets.map((p) => (
          <button key={p.name} className={p.name === selected ? 'preset active' : 'preset'} onClick={() => setSelected(p.name)} title={p.description}>
            {p.name}
          </button>
        ))}
      </aside>
      <main className="graph" data-testid="graph">
        <ReactFlow nodes={flow.nodes} edges={flow.edges} fitView nodesConnectable={false}>
          <Background />
          <Controls />
        </ReactFlow>
      </main>
      <section className="run">
        <p className="description">{doc?.description}</p>
        <label>
          task{' '}
          <select value={task} onChange={(e) => setTask(e.target.value)} data-testid="task">
            {TASKS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <button onClick={() => void start()} disabled={run.status === 'running'} data-testid="run">
          Run {selected}
        </button>
        {run.progress && (
          <p data-testid="progress">
            iteration {run.progress.iteration}/{run.progress.of} · NFE {run.progress.nfe}
          </p>
        )}
        {run.preview && <Preview frame={run.preview} />}
        {run.status === 'done' && <p data-testid="summary">{run.summary}</p>}
        {run.status === 'error' && <p className="error" data-testid="error">{run.error}</p>}
      </section>
    </div>
  );
}
