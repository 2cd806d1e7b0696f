/**
 * Summarises a V8 CPU profile (from `npm run bench -- --profile`): self time per function and per
 * file area (ours, dynalite, the AWS SDK, node internals), so a slow path can be named by file.
 *   tsx bench/profile.ts bench/profiles/<file>.cpuprofile [--top=30]
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a script URL belongs to. */
export function areaOf(url: string): string {
  if (url === '') return '(native/idle)';
  if (url.startsWith('node:')) return 'node internals';
  if (
    url.includes('/node_modules/dynalite/') ||
    /node_modules\/(levelup|memdown|abstract-leveldown|lazy|encoding-down|deferred-leveldown|level-)/.test(url)
  )
    return 'dynalite (embedded store)';
  if (url.includes('/node_modules/@aws-sdk/') || url.includes('/node_modules/@smithy/')) return 'AWS SDK client';
  if (url.includes('/node_modules/')) return `other deps (${url.split('/node_modules/')[1]?.split('/')[0] ?? '?'})`;
  if (url.includes('/shared/') || url.includes('/functions/') || url.includes('/infra/')) return 'service code';
  return 'other';
}

export function summarizeProfile(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const perFunction = new Map<string, number>();
  const perArea = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*\/work\/main\//, '');
    const key = `${functionName || '(anonymous)'}  ${short}:${lineNumber + 1}`;
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    const area = functionName === '(idle)' ? '(idle)' : functionName === '(garbage collector)' ? '(gc)' : areaOf(url);
    perArea.set(area, (perArea.get(area) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const lines = [`total ${(total / 1e6).toFixed(1)} s sampled`, '', 'self time by area:'];
  for (const [area, us] of [...perArea].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${area}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [key, us] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(us)}  ${key}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('profile.ts')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [--top=30]\n');
    process.exitCode = 2;
  } else {
    const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${summarizeProfile(profile, top)}\n`);
  }
}
