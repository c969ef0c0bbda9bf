/**
 * The Chromium the e2e tests drive through playwright-core, found in this order:
 * 1. `CHROMIUM_PATH` (only that one, when set);
 * 2. an installed Chromium or Chrome: `chromium`, `chromium-browser`, `google-chrome`,
 *    `google-chrome-stable` on PATH, then common absolute paths;
 * 3. the headless Chromium of the `@sparticuz/chromium` devDependency, decompressed once into
 *    node_modules/.cache/lagrange-e2e-chromium/<version>/ (x64 Linux, glibc).
 * `LAGRANGE_E2E_BROWSER=installed` or `=npm` keeps to one of the last two. A candidate that fails
 * to start is skipped; when none starts, the error lists every one tried and why it failed.
 */
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');

/** A browser to try: where it came from, its executable and what it is started with. */
export interface Candidate {
  /** Where it was found, for logs and errors: `CHROMIUM_PATH`, `installed`, `npm @sparticuz/chromium 147.0.0`. */
  source: string;
  executablePath: string;
  args: string[];
  /** Environment for the browser process; undefined keeps the test process's. */
  env?: Record<string, string>;
}

/** The executable names looked up on PATH, in order. */
export const INSTALLED_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** Where distributions and vendors put the browser when it is not on PATH. */
export const INSTALLED_PATHS = [
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * The installed browsers, in lookup order, without duplicates (by real path): names on `path`
 * (the PATH string), then {@link INSTALLED_PATHS}.
 */
export function installedBrowsers(path = process.env.PATH ?? '', absolute = INSTALLED_PATHS): string[] {
  const dirs = path.split(delimiter).filter(Boolean);
  const found = [...INSTALLED_NAMES.flatMap((name) => dirs.map((d) => join(d, name))), ...absolute].filter(executable);
  const seen = new Set<string>();
  return found.filter((p) => {
    const real = realpathSync(p);
    return !seen.has(real) && (seen.add(real), true);
  });
}

/**
 * Flags of the package's recommended list left out, so the page gets what a user's browser gives
 * it, at a user's speed. Measured on the studio e2e tests:
 * - `--use-gl=angle --use-angle=swiftshader` put all compositing through software GL: the ONNX run
 *   stalled the page for 17–22 s and showed 2 of its 11 preview frames (without them: 40 ms, 10);
 *   Chromium picks its own GL as Debian's does, and WebGL still works.
 * - `--disable-web-security` let a page read another origin without CORS (a fetch from 127.0.0.1
 *   to localhost:<port> succeeded; Debian's chromium refuses it); `--allow-running-insecure-content`
 *   permits mixed content; `--enable-features=SharedArrayBuffer` offers it without cross-origin
 *   isolation.
 * - `--single-process` made browser contexts share localStorage (a second context read what the
 *   first stored), so a test's fresh page inherited the last one's theme and autosave.
 * - `--headless='shell'`: Playwright passes `--headless` itself (the binary is a headless shell).
 */
const DROPPED_ARGS = /^--(single-process|use-gl|use-angle|disable-web-security|allow-running-insecure-content|enable-features=SharedArrayBuffer|headless)(=|$)/;

/** The `@sparticuz/chromium` package folder, or undefined when it is not installed. */
function packageDir(): string | undefined {
  try {
    let dir = dirname(createRequire(join(ROOT, 'package.json')).resolve('@sparticuz/chromium'));
    const named = (d: string): boolean => existsSync(join(d, 'package.json')) && JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === '@sparticuz/chromium';
    while (!named(dir) && dirname(dir) !== dir) dir = dirname(dir);
    return named(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decompresses the package's Chromium (with its fonts, SwiftShader and NSS libraries) into `dir`
 * unless an earlier run did. The package writes to os.tmpdir() and reuses whatever /tmp/chromium
 * holds, so it runs in a child with TMPDIR set to a fresh folder that is then renamed into place:
 * test files launching in parallel never see a half-written binary, and a different version never
 * reuses another's. AWS_EXECUTION_ENV makes the package extract al2023.tar.br (NSS) too, which a
 * machine without a system browser usually lacks.
 */
async function extract(dir: string): Promise<void> {
  if (existsSync(join(dir, 'chromium'))) return;
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    const script = "import c from '@sparticuz/chromium'; process.stdout.write(await c.executablePath());";
    const env = { ...process.env, TMPDIR: staging, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env });
    if (stdout !== join(staging, 'chromium')) throw new Error(`@sparticuz/chromium extracted to ${stdout}, not ${staging}`);
    // Its fonts.conf names /tmp/fonts; this one names where the fonts are and keeps the system's.
    const conf = `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${dir}/fonts</dir>\n  <cachedir>${dir}/fonts-cache</cachedir>\n</fontconfig>\n`;
    writeFileSync(join(staging, 'lagrange-fonts.conf'), conf);
    chmodSync(staging, 0o755); // mkdtemp made it private; the checkout may be shared
    try {
      renameSync(staging, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'chromium'))) throw e; // else a parallel run finished first
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The `@sparticuz/chromium` browser, decompressed on first use; throws when it is not installed. */
export async function npmBrowser(): Promise<Candidate> {
  const pkg = packageDir();
  if (!pkg) throw new Error('@sparticuz/chromium is not installed (it is a devDependency: run npm ci)');
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`@sparticuz/chromium ${version} ships an x64 Linux binary only (this is ${process.platform}-${process.arch})`);
  const dir = join(ROOT, 'node_modules/.cache/lagrange-e2e-chromium', version);
  await extract(dir);
  const { default: Chromium } = await import('@sparticuz/chromium');
  // The bundled NSS is built against glibc 2.34 (Amazon Linux 2023); older systems keep their own.
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime ?? '0';
  const [major = 0, minor = 0] = glibc.split('.').map(Number);
  const bundledNss = major > 2 || (major === 2 && minor >= 34);
  const libs = [...(bundledNss ? [join(dir, 'al2023/lib')] : []), ...(process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean)];
  // Under LANG=C.UTF-8 (usual in containers) this build reports navigator.language 'en-US@posix',
  // which Intl refuses ('Invalid language tag'), so the studio never renders; Debian's says 'en-US'.
  const { LC_ALL: _all, LC_MESSAGES: _messages, LANGUAGE: _language, ...rest } = process.env as Record<string, string>;
  const env = { ...rest, LANG: 'en_US.UTF-8', FONTCONFIG_FILE: join(dir, 'lagrange-fonts.conf'), ...(libs.length ? { LD_LIBRARY_PATH: libs.join(delimiter) } : {}) };
  const args = Chromium.args.filter((a) => !DROPPED_ARGS.test(a));
  return { source: `npm @sparticuz/chromium ${version}`, executablePath: join(dir, 'chromium'), args, env };
}

/** The candidates in lookup order, per `CHROMIUM_PATH` and `LAGRANGE_E2E_BROWSER` (auto, installed, npm). */
export function candidates(env = process.env): (Candidate | (() => Promise<Candidate>))[] {
  if (env.CHROMIUM_PATH) return [{ source: 'CHROMIUM_PATH', executablePath: env.CHROMIUM_PATH, args: [] }];
  const only = env.LAGRANGE_E2E_BROWSER ?? 'auto';
  if (!['auto', 'installed', 'npm'].includes(only)) throw new Error(`LAGRANGE_E2E_BROWSER=${only}: use auto, installed or npm`);
  const installed = only === 'npm' ? [] : installedBrowsers(env.PATH).map((p) => ({ source: 'installed', executablePath: p, args: [] }));
  return [...installed, ...(only === 'installed' ? [] : [npmBrowser])];
}

/** What was looked for and found nowhere, for the error message. */
function notFound(env: NodeJS.ProcessEnv): string[] {
  const only = env.LAGRANGE_E2E_BROWSER ?? 'auto';
  return only === 'npm' ? [] : [`installed: none of ${INSTALLED_NAMES.join(', ')} on PATH, nor ${INSTALLED_PATHS.join(', ')}`];
}

/**
 * A launch failure in one line: Playwright's first line, the browser's last stderr lines (a missing
 * library shows there) and its exit code, without the command line and call log it also prints.
 */
export function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const head = message.split('\n').find((l) => l.trim()) ?? '';
  const logs = message.split('Call log:')[0] ?? '';
  const stderr = [...logs.matchAll(/^\[pid=\d+\]\[err\] (.+)$/gm)].map((m) => m[1]!.trim()).slice(-2);
  const exit = /process did exit: exitCode=(\w+)/.exec(message)?.[1];
  const parts = [head.replace(/^browserType\.launch: /, ''), ...(stderr.length ? [`stderr: ${stderr.join(' | ')}`] : []), ...(exit ? [`exit code ${exit}`] : [])];
  return parts.join('; ');
}

/**
 * Launches the first candidate that starts (see the module comment) and logs which one it is.
 * Throws, listing each candidate and its failure, when none does.
 */
export async function launchBrowser(env = process.env): Promise<Browser> {
  const tried: string[] = [];
  const list = candidates(env);
  if (!env.CHROMIUM_PATH && !list.some((c) => typeof c !== 'function')) tried.push(...notFound(env));
  for (const entry of list) {
    let c: Candidate | undefined;
    try {
      c = typeof entry === 'function' ? await entry() : entry;
      const browser = await chromium.launch({ executablePath: c.executablePath, args: c.args, env: c.env, timeout: 60_000 });
      console.log(`e2e browser: ${c.source} ${c.executablePath} (Chromium ${browser.version()})`);
      return browser;
    } catch (e) {
      tried.push(c ? `${c.source} ${c.executablePath}: ${reason(e)}` : `npm @sparticuz/chromium: ${reason(e)}`);
    }
  }
  throw new Error(
    `e2e tests found no Chromium that starts. Tried:\n  ${tried.join('\n  ')}\nInstall one (apt-get install chromium), set CHROMIUM_PATH, or run npm ci for the @sparticuz/chromium devDependency.`,
  );
}
