import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type BundledFunction, bundleFunctions, DEFAULT_ENTRIES, PROJECT_ROOT } from '../infra/bundle.ts';
import { NODE24_BINARY } from '../test/support/node24.ts';
import { type Figure, figure, median } from './stats.ts';

export interface BundleOptions {
  /** Fresh processes per bundle (and for bare Node); the median is reported. */
  runs: number;
}

/** Issue 10's targets: each bundle at most 350 KB, loading at most 50 ms above a bare Node 24. */
export const SIZE_LIMIT_KB = 350;
export const INIT_LIMIT_MS = 50;

/** What the measured process runs first: it reports its own CPU time (user + system) as it exits. */
const CPU_REPORTER =
  "process.on('exit', () => { const u = process.cpuUsage(); process._rawDebug('cold-load-cpu-ms ' + (u.user + u.system) / 1000); });\n";

interface Load {
  /** Wall time from spawning the process until it exited. */
  wallMs: number;
  /** CPU time the process used (user + system): on a machine shared with other work, far steadier than the wall time. */
  cpuMs: number;
}

/** A fresh `node <file>` until it exits (it must exit 0), with the CPU reporter loaded first. */
function timeNode(node: string, reporter: string, file: string): Promise<Load> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    // No NODE_OPTIONS (tsx's loader would be inherited) and no project environment: a clean cold start.
    const child = spawn(node, ['--import', pathToFileURL(reporter).href, file], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - start;
      const cpu = /cold-load-cpu-ms ([\d.]+)/.exec(stderr);
      if (code === 0 && cpu) resolvePromise({ wallMs, cpuMs: Number(cpu[1]) });
      else reject(new Error(`node ${file} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

/**
 * Figure 5: each Lambda function bundled exactly as `npm run build` does it (infra/bundle.ts,
 * minified ESM for Node 24), its size, and how long a fresh Node 24 process (the Lambda runtime) takes to load it compared
 * with a fresh Node process loading an empty module, interleaved run by run. Loading evaluates the
 * module's top level, which is what a cold start pays before the first invocation; the app itself
 * is built lazily on the first invocation and needs AWS, so it is not part of this figure.
 */
export async function benchBundles(options: BundleOptions): Promise<{ figures: Figure[]; missing: string[] }> {
  const outDir = await mkdtemp(join(tmpdir(), 'event-hooks-bench-'));
  try {
    const present = Object.entries(DEFAULT_ENTRIES).filter(([, entry]) => existsSync(resolve(PROJECT_ROOT, entry)));
    const missing = Object.entries(DEFAULT_ENTRIES)
      .filter(([, entry]) => !existsSync(resolve(PROJECT_ROOT, entry)))
      .map(([, entry]) => entry);
    const bundles: BundledFunction[] = await bundleFunctions({
      entries: Object.fromEntries(present),
      outDir,
      minify: true,
    });
    // Node 24 is the functions' Lambda runtime (`npm run node24` installs it). Without it, or with
    // SKIP_NODE24=1 as in the tests, the figure is measured on this Node and its notes say so,
    // rather than failing a whole bench run at its last suite.
    const skipped = process.env.SKIP_NODE24 === '1';
    const onNode24 = !skipped && existsSync(NODE24_BINARY);
    const node = onNode24 ? NODE24_BINARY : process.execPath;
    const runtime = onNode24
      ? 'Node 24'
      : `Node ${process.version} (${skipped ? 'SKIP_NODE24=1' : 'Node 24 not installed: npm run node24'})`;
    const empty = join(outDir, 'empty.mjs');
    await writeFile(empty, '');
    const reporter = join(outDir, 'cpu-reporter.mjs');
    await writeFile(reporter, CPU_REPORTER);

    const bare: Load[] = [];
    const loads = new Map<string, Load[]>(bundles.map((b) => [b.name, []]));
    await timeNode(node, reporter, empty); // the first spawn pays for the page cache; not counted
    for (let run = 0; run < options.runs; run++) {
      bare.push(await timeNode(node, reporter, empty));
      for (const bundle of bundles) loads.get(bundle.name)?.push(await timeNode(node, reporter, bundle.file));
    }
    const bareMs = median(bare.map((l) => l.wallMs));
    const bareCpuMs = median(bare.map((l) => l.cpuMs));

    const figures: Figure[] = [];
    for (const bundle of bundles) {
      const kb = bundle.bytes / 1000;
      const loadMs = median((loads.get(bundle.name) ?? []).map((l) => l.wallMs));
      const cpuMs = median((loads.get(bundle.name) ?? []).map((l) => l.cpuMs));
      figures.push(
        figure({
          name: `bundle ${bundle.name}: size`,
          unit: 'KB',
          value: kb,
          note: '1 KB = 1000 bytes; minified ESM bundle from infra/bundle.ts, everything (AWS SDK included) bundled',
          target: { text: `≤ ${SIZE_LIMIT_KB} KB`, met: ({ value }) => value <= SIZE_LIMIT_KB },
        }),
        figure({
          name: `bundle ${bundle.name}: cold load`,
          unit: 'ms',
          value: loadMs,
          baseline: bareMs,
          note: `median of ${options.runs} fresh ${runtime} processes each; ${(loadMs - bareMs).toFixed(1)} ms above bare Node (baseline: the same Node loading an empty module)`,
          target: {
            text: `value - baseline ≤ ${INIT_LIMIT_MS} ms`,
            met: ({ value, baseline }) => baseline !== null && value - baseline <= INIT_LIMIT_MS,
          },
        }),
        figure({
          name: `bundle ${bundle.name}: cold load CPU`,
          unit: 'ms',
          value: cpuMs,
          baseline: bareCpuMs,
          note: `CPU time (user + system) of the same processes, median; ${(cpuMs - bareCpuMs).toFixed(1)} ms above bare Node. Steadier than the wall time when other work shares the machine`,
          target: {
            text: `value - baseline ≤ ${INIT_LIMIT_MS} ms`,
            met: ({ value, baseline }) => baseline !== null && value - baseline <= INIT_LIMIT_MS,
          },
        }),
      );
    }
    return { figures, missing };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
