/**
 * The `lagrange` command line. Each command is a thin wrapper over the engine API; errors are one
 * line on stderr and a non-zero exit (set LAGRANGE_DEBUG=1 or pass --debug for the stack).
 */
import { Command, CommanderError, Option } from 'commander';
import { LAGRANGE_VERSION } from '../engine/version';
import { errorLine, intOption } from './errors';
import { runSimulate } from './simulate';
import type { SimulateArgs } from './simulate';
import { describeTasks, tasksJson } from './tasks';
import { runValidate } from './validate';
import { runEval } from './eval';
import { studyStatus } from './study';
import { runWorker } from './worker';
import type { WorkerArgs } from './worker';
import { runValidateSolver } from './validateSolver';
import type { ValidateSolverArgs } from './validateSolver';
import { modelsCheck, modelsInspect, modelsList } from './models';
import { GRADCHECK_TOLERANCE, modelsGradcheck, modelsVjp } from './modelsGrad';
import { operatorsCheck, operatorsList } from './operators';
import { runSample } from './sample';
import type { SampleArgs } from './sample';
import { PROVIDER_ORDER } from '../engine/priors/onnxPrior';
import type { ExecutionProvider } from '../engine/priors/onnxPrior';
import type { EvalArgs } from './eval';
import { presetSummaries, runGraph } from './run';
import { addPluginPaths, loadPlugins } from '../engine/plugin/load';
import { pluginsList } from './plugins';
import type { RunArgs } from './run';
import { registerTune } from './tune';

/** Output sinks, injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: CliIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

function program(io: CliIo, status: { code: number }, argv: readonly string[]): Command {
  const p = new Command('lagrange')
    .description('Lagrange Studio: diffusion-prior solvers for inverse problems')
    .version(LAGRANGE_VERSION)
    .option('--debug', 'print stack traces of errors')
    .option(
      '--plugin <dir>',
      'load the plugin in <dir> (or every plugin folder in it) besides ~/.lagrange/plugins and LAGRANGE_PLUGINS (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  // Plugins load before any command runs; --plugin goes onto LAGRANGE_PLUGINS so worker threads load the same ones.
  p.hook('preAction', async (_, action) => {
    addPluginPaths(p.opts<{ plugin: string[] }>().plugin);
    const report = await loadPlugins();
    if (action.name() === 'list' && action.parent?.name() === 'plugins') return; // the listing shows refusals itself
    for (const r of report) if (r.status === 'refused') io.err(`lagrange: ${r.reason} (${r.folder}); skipped`);
  });

  p.command('tasks')
    .description('list the measurement tasks with their parameters')
    .option('--size <n>', 'image side the parameters are shown for', '256')
    .option('--json', 'print JSON')
    .action((o: { size: string; json?: boolean }) => {
      const size = Number(o.size);
      if (o.json) io.out(JSON.stringify(tasksJson(size), null, 2));
      else describeTasks(size).forEach((l) => io.out(l));
    });

  p.command('simulate')
    .description('simulate a measurement y = A(x) + noise and write a measurement bundle')
    .option('--task <id>', "task id (see 'lagrange tasks')")
    .option('--operator <dir>', 'an ONNX operator folder (operator.json, apply.onnx, …) instead of --task; the image is fitted to its card')
    .requiredOption('--image <file>', 'ground-truth image (.png, .npy in [-1,1], sample:<name> or model:<model>/<file>)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--sigma <s>', 'Gaussian noise std σ_y in [-1,1] units', '0.05')
    .addOption(new Option('--noise <kind>', 'noise model').choices(['gaussian', 'poisson']).default('gaussian'))
    .option('--rate <r>', 'Poisson photons per unit [0,1] intensity')
    .option('--seed <n>', 'seed of the mask/kernel and of the noise', '0')
    .option('--size <n>', 'centre-crop to a square and resize to n×n first')
    .option('--prior <p>', 'fit the image to this prior (bundled model name or model folder): its channels and size, as run does')
    .option('--param <key=value...>', 'override a task parameter (repeatable)')
    .action(async (o: SimulateArgs) => {
      (await runSimulate(o)).forEach((l) => io.out(l));
    });
  p.command('presets')
    .description('list the shipped solver presets and those of loaded plugins')
    .action(() => presetSummaries().forEach((x) => io.out(`${x.name.padEnd(14)} ${x.description}${x.plugin ? ` [plugin ${x.plugin}]` : ''}`)));

  p.command('plugins')
    .description('plugins: list what loaded and why anything did not')
    .command('list')
    .description('each plugin found: name, version, folder, what it registered, or the reason it was refused')
    .option('--json', 'one JSON line')
    .action((o: { json?: boolean }) => pluginsList(!!o.json).forEach((l) => io.out(l)));

  p.command('run')
    .description('run a solver graph or preset and write result.npy/png, previews.png and report.json')
    .argument('<graph>', 'graph file or preset name (see `lagrange presets`)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--measurement <dir>', "measurement bundle from 'lagrange simulate'")
    .option('--task <id>', 'simulate this task instead of the graph’s')
    .option('--operator <dir>', 'an ONNX operator folder in place of the graph’s operator node (its task overrides then do not apply)')
    .option('--image <file>', 'ground truth to simulate from (.png/.npy, or sample:<name>)')
    .option('--size <n>', 'resize the image to n×n')
    .option('--sigma <s>', 'measurement noise σ_y when simulating')
    .option('--prior <p>', 'gaussian | gmm | bundled model name | model folder')
    .option('--provider <p>', 'execution provider of network priors: auto (CUDA → DirectML → WebGPU → CPU) | cuda | dml | webgpu | cpu')
    .option('--iterations <k>', 'iterations K')
    .option('--seed <n>', 'run seed')
    .option('--samples <n>', 'posterior samples drawn together')
    .option('--profile <name>', 'preset profile (e.g. daps 1k/4k)')
    .option('--set <node.param=value>', 'set a node parameter for this run (repeatable); wins over the graph’s task and profile overrides', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--backend <b>', 'iteration backend: js | onnx (each iteration as one ONNX model, network included); default: the graph’s run.backend, else js')
    .option('--json', 'JSON-lines events on stdout')
    .action(async (graph: string, o: RunArgs) => {
      const lines = await runGraph(graph, o, { out: io.out, err: (l) => process.stderr.write(l), tty: !o.json && process.stderr.isTTY === true });
      if (!o.json) lines.forEach((l) => io.out(l));
    });

  p.command('eval')
    .description('run solvers × tasks × images × seeds on simulated measurements; write results.jsonl (resumable), table.md, table.csv')
    .requiredOption('--solvers <list>', 'comma-separated presets or graph files, and/or the references tikhonov, measurement')
    .requiredOption('--images <sources...>', 'images, folders of PNGs, sample:<name> or model:<model>/heldout')
    .requiredOption('--out <dir>', 'study folder (re-running resumes it)')
    .option('--tasks <list>', "comma-separated task ids or 'all'", 'all')
    .option('--count <n>', 'use the first n images')
    .option('--seeds <list>', 'comma-separated seeds (measurement and solver)', '0')
    .option('--sigma <list>', 'measurement noise σ_y (comma-separated for a noise sweep)', '0.05')
    .option('--prior <p>', 'gaussian | gmm | bundled model name | model folder')
    .option('--size <n>', 'image side when the prior does not fix it')
    .option('--samples <n>', 'posterior samples per image (best-of-N is reported separately)')
    .option('--iterations <list>', 'iterations K (comma-separated for a cost sweep)')
    .option('--report <file.md>', 'also write a titled markdown report with the command that made it')
    .option('--title <text>', 'title of the report')
    .option('--workers <n>', 'worker threads (default: cores − 1); results do not depend on it')
    .option('--lpips <dir>', 'LPIPS network folder (tools/export_lpips.py): adds an LPIPS column')
    .option('--queue <url>', 'redis://host:port[/db]: run the rows as jobs on this queue, computed by `lagrange worker`s (docs/studies.md)')
    .option('--queue-name <name>', 'BullMQ queue name', 'lagrange-study')
    .option('--retries <n>', 'with --queue: further attempts of a job whose failure may pass (a worker without its files)', '2')
    .option('--retry-delay <ms>', 'with --queue: first retry delay, doubled on each further one', '5000')
    .option('--carry-images', 'with --queue: put each image file into its jobs, for workers that do not share these paths')
    .action(async (o: EvalArgs) => {
      const lines = await runEval(o, { out: io.out, err: (l) => process.stderr.write(process.stderr.isTTY ? l : l + '\n'), tty: process.stderr.isTTY === true }, argv.slice(2));
      lines.forEach((l) => io.out(l));
    });

  registerTune(p, io, argv);

  p.command('worker')
    .description('run study jobs from a queue (lagrange eval --queue) until Ctrl-C; one per --concurrency, each on an engine thread')
    .requiredOption('--queue <url>', 'redis://host:port[/db]')
    .option('--queue-name <name>', 'BullMQ queue name', 'lagrange-study')
    .option('--provider <p>', 'execution provider of network priors: auto | cuda | dml | webgpu | cpu')
    .option('--concurrency <n>', 'jobs at once', '1')
    .option('--name <name>', 'this worker in `lagrange study status` (default host-pid)')
    .option('--lock-duration <ms>', "a job whose worker stops renewing its lock for this long is another worker's to run", '30000')
    .option('--stalled-interval <ms>', 'how often to look for jobs of workers that died', '30000')
    .action(async (o: WorkerArgs) => runWorker(o, io.out));

  p.command('study')
    .description('evaluation studies: status')
    .command('status')
    .description('done / running / failed / waiting per worker of a study folder (from lagrange eval) or a queue URL')
    .argument('<target>', 'study folder or redis://host:port[/db]')
    .option('--queue-name <name>', 'BullMQ queue name, for a URL', 'lagrange-study')
    .action(async (target: string, o: { queueName?: string }) => (await studyStatus(target, o)).forEach((l) => io.out(l)));

  const operators = p.command('operators').description('measurement operators: list, check');
  operators
    .command('list')
    .description('the registered operators: id, title, linear, capabilities (and how proxL2 is done), origin')
    .option('--json', 'the rows as one JSON line')
    .action((o: { json?: boolean }) => operatorsList(!!o.json).forEach((l) => io.out(l)));
  operators
    .command('check')
    .description(
      'conformance of a registered operator (at --channels×--size×--size) or of an ONNX operator folder: shapes, relative adjoint error, VJP against central differences, proxL2 normal equations, determinism, output buffers',
    )
    .argument('<target>', 'a registered operator id (see operators list) or an operator folder (operator.json, apply.onnx, adjoint.onnx and/or vjp.onnx)')
    .option('--size <px>', 'image side H = W for a registered operator', '32')
    .option('--channels <c>', 'image channels C for a registered operator', '3')
    .option('--seed <n>', 'instance and probe seed for a registered operator', '0')
    .option('--json', 'the report as one JSON line')
    .action((target: string, o: { size: string; channels: string; seed: string; json?: boolean }) => {
      const opts = { size: intOption('--size', o.size, 1), channels: intOption('--channels', o.channels, 1), seed: intOption('--seed', o.seed, 0), json: !!o.json };
      const r = operatorsCheck(target, opts);
      r.lines.forEach((l) => io.out(l));
      if (!r.ok) {
        io.err(`lagrange: operator check failed: ${r.failure ?? 'see the report'}`);
        status.code = 1;
      }
    });

  const models = p.command('models').description('score models: list, inspect, check, gradcheck, vjp');
  models
    .command('list')
    .description('bundled models and yours (LAGRANGE_MODELS or ~/.lagrange/models)')
    .option('--json', 'one JSON line')
    .action((o: { json?: boolean }) => modelsList(!!o.json).forEach((l) => io.out(l)));
  models
    .command('inspect')
    .description('a model card, the network inputs/outputs and the execution providers usable here')
    .argument('<model>', 'model folder or installed model name')
    .option('--json', 'one JSON line')
    .action(async (m: string, o: { json?: boolean }) => (await modelsInspect(m, !!o.json)).forEach((l) => io.out(l)));
  models
    .command('check')
    .description('load and time the model on each provider, check shapes and finiteness, compare with check/{x,t,eps}.npy')
    .argument('<model>', 'model folder or installed model name')
    .addOption(new Option('--provider <p>', 'check only this execution provider').choices(PROVIDER_ORDER))
    .option('--json', 'the report as one JSON line')
    .action(async (m: string, o: { provider?: ExecutionProvider; json?: boolean }) => {
      const r = await modelsCheck(m, o);
      r.lines.forEach((l) => io.out(l));
      if (!r.ok) {
        io.err(`lagrange: model check failed: ${r.problems[0] ?? 'see the report'}`);
        status.code = 1;
      }
    });
  models
    .command('gradcheck')
    .description('the exact VJP of an ONNX network (built in TypeScript) against central differences on random probes; exits 1 above tolerance')
    .argument('<model>', 'a .onnx file, a model folder or an installed model name (then d eps/d x at a mid-schedule timestep)')
    .option('--probes <n>', 'random (direction, cotangent) probes', '4')
    .option('--seed <n>', 'probe seed', '0')
    .option('--tol <x>', 'worst relative error allowed', String(GRADCHECK_TOLERANCE))
    .option('--json', 'the report as one JSON line')
    .action(async (m: string, o: { probes: string; seed: string; tol: string; json?: boolean }) => {
      const r = await modelsGradcheck(m, { probes: intOption('--probes', o.probes, 1), seed: intOption('--seed', o.seed, 0), tol: Number(o.tol), json: !!o.json });
      r.lines.forEach((l) => io.out(l));
      if (!r.ok) status.code = 1;
    });
  models
    .command('vjp')
    .description('one vector-Jacobian product (dy/dx)^T v of an ONNX model, exact (reverse mode), written as .npy')
    .argument('<model>', 'the .onnx file')
    .requiredOption('--input <name=file.npy...>', 'every model input, by name')
    .requiredOption('--cotangent <file.npy>', 'v, shaped as the output')
    .requiredOption('--out <file.npy>', 'where to write the gradient')
    .option('--wrt <name>', 'the input to differentiate (default: the first float32 input)')
    .action(async (m: string, o: { input: string[]; cotangent: string; out: string; wrt?: string }) => (await modelsVjp(m, o)).forEach((l) => io.out(l)));

  p.command('sample')
    .description('unconditional samples of a score model (DDIM), written as a grid PNG')
    .requiredOption('--prior <model>', 'model folder or installed model name')
    .requiredOption('--out <grid.png>', 'grid image to write (8 columns)')
    .option('--steps <n>', 'DDIM steps = NFE', '100')
    .option('--count <n>', 'samples, drawn as one batch', '64')
    .option('--seed <n>', 'seed of the noise', '0')
    .option('--eta <η>', 'DDIM η (0: deterministic)', '0')
    .option('--clip', 'clip x̂₀ to [−1, 1] at every step')
    .option('--npy <file>', 'also write the samples (N×C×H×W) as .npy')
    .addOption(new Option('--provider <p>', 'execution provider (default: the first that works)').choices(PROVIDER_ORDER))
    .action(async (o: SampleArgs) => (await runSample(o)).forEach((l) => io.out(l)));

  p.command('validate-solver')
    .description("compare a solver graph's samples with the exact posterior (analytic prior, linear task)")
    .argument('<graph>', 'graph file or preset name')
    .option('--prior <p>', 'gaussian | gmm', 'gaussian')
    .option('--prior-mean <img>', "gaussian prior mean image: sample:<name>, .png or .npy of the image's C×H×W")
    .option('--prior-std <s>', 'gaussian prior std: a number or an .npy of per-pixel stds')
    .option('--task <id>', 'a linear task, simulated on sample:astronaut (default inpaint-random)')
    .option('--measurement <dir>', 'a bundle from lagrange simulate (linear task) instead of --task/--size/--sigma')
    .option('--samples <n>', 'posterior samples drawn by the solver (and exactly)', '64')
    .option('--size <n>', 'image side (default 8)')
    .option('--sigma <s>', 'measurement noise σ_y (default 0.05)')
    .option('--seed <n>', 'seed')
    .option('--iterations <k>', 'iterations K')
    .option('--quantiles <k>', 'posterior-variance groups (default 10)')
    .option('--set <node.param=value>', 'set a node parameter (repeatable); wins over the graph’s task overrides', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'one JSON line')
    .action(async (graph: string, o: ValidateSolverArgs) => (await runValidateSolver(graph, o)).forEach((l) => io.out(l)));

  p.command('studio')
    .description('browser mode: serve the studio on 127.0.0.1 (the printed link carries a per-launch access token)')
    .option('--port <n>', 'port (0: any free one)', '5217')
    .option('--open', 'open the page in the default browser')
    .option(
      '--allow <dir>',
      'a folder runs may read files from, besides uploads and the bundled resources (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .action(async (o: { port: string; open?: boolean; allow: string[] }) => {
      const { studio } = await import('../server/main');
      await studio({ port: intOption('--port', o.port, 0), open: o.open === true, allow: o.allow });
      await new Promise<never>(() => {}); // serve until interrupted
    });

  p.command('validate')
    .description('check a graph file (*.lagrange.json): format, node kinds, parameters, wiring, capabilities')
    .argument('<graph>', 'graph file')
    .action((file: string) => {
      const r = runValidate(file);
      r.lines.forEach((l) => (r.ok ? io.out(l) : io.err(l)));
      if (!r.ok) status.code = 1;
    });
  return p;
}

/** Runs the CLI on `argv` (node-style, with the first two entries ignored); returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = stdio): Promise<number> {
  const debug = argv.includes('--debug') || process.env.LAGRANGE_DEBUG === '1';
  try {
    const status = { code: 0 };
    await program(io, status, argv).parseAsync([...argv]);
    return status.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its own one-line message (or help/version, exit code 0)
      return e.exitCode;
    }
    io.err(errorLine(e));
    if (debug && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  }
}
