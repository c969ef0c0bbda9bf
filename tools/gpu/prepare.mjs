#!/usr/bin/env node
// `npm run gpu:check`: everything the GPU check needs on a machine with no Node.js and no network,
// in one ignored folder (gpu-check/) that travels as the call's one carried path:
//   node.xz          this machine's node binary, stripped of its debug info and xz-compressed
//   payload.tar.xz   the built engine (out/engine, plus gpu-bench.mjs bundled from tools/gpu/bench.ts)
//   runtime.tar.xz   the node_modules the engine imports at run time (onnxruntime-node's linux-x64
//                    libraries only) and Debian's Vulkan loader (libvulkan1, extracted with dpkg-deb)
//   manifest.json    sizes, the budget, the device command and the carry list
// No model weights travel: tools/gpu/device.sh exports random-init ADM UNets there with PyTorch.
// Options: --out DIR (default gpu-check), --level N (xz preset, default 6), --cache DIR (default
// node_modules/.cache/gpu-check: the compressed node binary and packages, reused while unchanged).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = new URL('../..', import.meta.url).pathname;
const MiB = 2 ** 20;
/** What gpu-check/ may weigh, and the whole call with the repository copy: the device takes 64 MiB. */
export const BUDGET = { folder: 40 * MiB, call: 52 * MiB };
export const DEVICE_COMMAND = 'bash tools/gpu/device.sh';
export const CARRY = ['gpu-check'];
// Imported by the server's dev mode only (vite) or by onnxruntime-node's install script only.
const NOT_AT_RUN_TIME = new Set(['vite', 'adm-zip', 'global-agent']);

const { values: o } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'gpu-check') }, level: { type: 'string', default: '6' }, cache: { type: 'string' } } });
const out = o.out;
// Not under `out`: whatever is there travels.
const cache = o.cache ?? join(ROOT, 'node_modules', '.cache', 'gpu-check');
const say = (s) => console.error(`gpu:check: ${s}`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });

/** The newest mtime under `dir`. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/** Bare package names out/engine's bundles import (they keep packages external). */
function importedPackages(dir) {
  const names = new Set();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs'))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/(?:from|import\(|require\()\s*["']([^"'./][^"']*)["']/g)) {
      if (m[1].startsWith('node:')) continue;
      const parts = m[1].split('/');
      const name = m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(name)) names.add(name); // not a message quoting a command
    }
  }
  return names;
}

/** `names` and their dependencies, transitively, from node_modules/<name>/package.json. */
function closure(names) {
  const all = new Set();
  const todo = [...names].filter((n) => !NOT_AT_RUN_TIME.has(n));
  while (todo.length) {
    const n = todo.pop();
    if (all.has(n)) continue;
    const pkg = join(ROOT, 'node_modules', n, 'package.json');
    if (!existsSync(pkg)) throw new Error(`gpu:check: node_modules/${n} is missing (npm ci first)`);
    all.add(n);
    for (const d of Object.keys(JSON.parse(readFileSync(pkg, 'utf8')).dependencies ?? {})) if (!NOT_AT_RUN_TIME.has(d)) todo.push(d);
  }
  return all;
}

/** Copies a package without type declarations, source maps, docs and other platforms' binaries. */
function copyPackage(name, to) {
  const from = join(ROOT, 'node_modules', name);
  cpSync(from, join(to, name), {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(from.length);
      if (/\.(d\.[cm]?ts|map|md)$/.test(rel)) return false;
      if (name === 'onnxruntime-node' && rel.startsWith('/bin/napi-v6/')) return '/bin/napi-v6/linux/x64'.startsWith(rel) || rel.startsWith('/bin/napi-v6/linux/x64');
      return !(name === 'onnxruntime-node' && /^\/(lib|script)(\/|$)/.test(rel));
    },
  });
}

/** A file from the cache when its key matches, else made by `make(path)` and cached. */
function cached(name, key, make) {
  mkdirSync(cache, { recursive: true });
  const file = join(cache, name);
  const stamp = `${file}.key`;
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return file;
  make(file);
  writeFileSync(stamp, key);
  return file;
}

const xz = (src, dst) => writeFileSync(dst, sh('xz', ['-T2', `-${o.level}`, '-c', src], { maxBuffer: 1 << 30 }));

// 1. The built engine, rebuilt when a source is newer; gpu-bench.mjs bundled beside it.
if (!existsSync(join(ROOT, 'out/engine/cli.mjs')) || statSync(join(ROOT, 'out/engine/cli.mjs')).mtimeMs < newest(join(ROOT, 'src'))) {
  say('building the engine (npm run build:engine)');
  sh(process.execPath, [join(ROOT, 'scripts/build-engine.mjs')], { stdio: 'inherit' });
}
const stage = mkdtempSync(join(tmpdir(), 'gpu-check-'));
try {
  cpSync(join(ROOT, 'out/engine'), join(stage, 'engine'), { recursive: true, filter: (s) => !s.endsWith('.map') });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { 'gpu-bench': 'tools/gpu/bench.ts' },
    outdir: join(stage, 'engine'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    define: { LAGRANGE_BUNDLED: 'true' }, // workers load as ./noise-worker.mjs etc. from this folder
    logLevel: 'warning',
  });
  writeFileSync(join(stage, 'lagrange.mjs'), "import { main } from './engine/cli.mjs';\nprocess.exitCode = await main(process.argv);\n");

  // 2. The packages the engine imports at run time.
  const packages = closure(importedPackages(join(stage, 'engine')));
  for (const n of packages) copyPackage(n, join(stage, 'node_modules'));

  // 3. Debian's Vulkan loader, downloaded once (apt-get download needs no root) and extracted here.
  const deb = cached('libvulkan1.deb', 'libvulkan1', (file) => {
    const tmp = mkdtempSync(join(tmpdir(), 'gpu-check-deb-'));
    const r = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: tmp, encoding: 'utf8' });
    const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!got) throw new Error(`gpu:check: apt-get download libvulkan1 failed (${r.status}): ${r.stderr}`);
    copyFileSync(join(tmp, got), file);
    rmSync(tmp, { recursive: true, force: true });
  });
  const debDir = join(stage, 'deb');
  sh('dpkg-deb', ['-x', deb, debDir]);
  mkdirSync(join(stage, 'lib'));
  const libDir = join(debDir, 'usr/lib/x86_64-linux-gnu');
  for (const f of readdirSync(libDir).filter((f) => f.startsWith('libvulkan.so'))) cpSync(join(libDir, f), join(stage, 'lib', f), { verbatimSymlinks: true });
  const vulkan = String(sh('dpkg-deb', ['-f', deb, 'Version'])).trim();
  rmSync(debDir, { recursive: true });

  // 4. Compress: node separately (cached on the binary and level), the rest as one tarball.
  mkdirSync(out, { recursive: true });
  const node = realpathSync(process.execPath);
  const ns = statSync(node);
  const nodeXz = cached(`node-${o.level}.xz`, `${node} ${ns.size} ${ns.mtimeMs} ${o.level}`, (file) => {
    const stripped = join(stage, 'node.stripped');
    sh('strip', ['-o', stripped, node]);
    xz(stripped, file);
    rmSync(stripped);
  });
  copyFileSync(nodeXz, join(out, 'node.xz'));
  const tarXz = (members, dst) => {
    const tar = join(stage, '..', `${stage.split('/').pop()}.tar`);
    sh('tar', ['-cf', tar, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', stage, ...members]);
    xz(tar, dst);
    rmSync(tar);
  };
  // The packages and the loader change with package-lock.json only: cached, since their xz takes the most time.
  const lock = createHash('sha256')
    .update(readFileSync(join(ROOT, 'package-lock.json')))
    .digest('hex');
  const runtime = cached(`runtime-${o.level}.tar.xz`, `${lock} ${vulkan} ${[...packages].sort().join(',')} ${o.level}`, (file) => tarXz(['node_modules', 'lib'], file));
  copyFileSync(runtime, join(out, 'runtime.tar.xz'));
  tarXz(['engine', 'lagrange.mjs'], join(out, 'payload.tar.xz'));
  rmSync(join(out, 'out'), { recursive: true, force: true }); // an earlier run's results do not travel

  // 5. Sizes against the budget: the folder, and the whole call (tracked and untracked files travel too).
  const size = (f) => statSync(join(out, f)).size;
  // Everything in the folder travels, so everything in it counts.
  const folder = readdirSync(out, { withFileTypes: true, recursive: true }).reduce((n, e) => n + (e.isFile() ? statSync(join(e.parentPath, e.name)).size : 0), 0);
  const listed = String(sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, maxBuffer: 1 << 28 }))
    .split('\0')
    .filter(Boolean);
  const repo = listed.reduce((s, f) => s + (existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile() ? statSync(join(ROOT, f)).size : 0), 0);
  const glibc = String(sh('sh', ['-c', `objdump -T ${node} | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1`])).trim();
  const manifest = {
    node: { version: process.version, needs: glibc, bytes: size('node.xz') },
    runtime: { bytes: size('runtime.tar.xz') },
    payload: { bytes: size('payload.tar.xz'), packages: [...packages].sort(), vulkanLoader: `libvulkan1 ${vulkan}` },
    xzLevel: Number(o.level),
    bytes: { folder, repository: repo, call: folder + repo },
    budget: BUDGET,
    command: DEVICE_COMMAND,
    carry: CARRY,
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;
  say(
    `node ${process.version} ${mib(size('node.xz'))}, packages and Vulkan loader ${mib(size('runtime.tar.xz'))} (${packages.size} packages, libvulkan1 ${vulkan}), engine ${mib(size('payload.tar.xz'))}; folder ${mib(folder)} of ${mib(BUDGET.folder)}, call ${mib(folder + repo)} of ${mib(BUDGET.call)} with the repository's ${mib(repo)}`,
  );
  if (folder > BUDGET.folder || folder + repo > BUDGET.call) {
    say('over budget');
    process.exitCode = 1;
  }
  console.log(`device command: ${DEVICE_COMMAND}\ncarry: ${JSON.stringify(CARRY)}\nCPU rehearsal: GPU_CHECK_DRY=1 ${DEVICE_COMMAND}`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
