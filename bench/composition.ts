import { build, type Metafile } from 'esbuild';
import { DEFAULT_ENTRIES, esbuildOptions } from '../infra/bundle.ts';

/**
 * What each function bundle is made of, from esbuild's metafile (the same options as `npm run build`):
 * minified bytes per package (node_modules) or project folder, largest first.
 *
 *   npx tsx bench/composition.ts [function…] [--files] [--why=<path part>]
 *
 * `--files` lists files instead of groups; `--why=ipaddr` prints the import chain from the entry point
 * to the first input whose path contains the text, to see which import brings it in.
 */
function groupOf(path: string): string {
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  return path.split('/').slice(0, 2).join('/');
}

/** The shortest import chain from the entry to an input containing `part`, by breadth-first search. */
function why(metafile: Metafile, entry: string, part: string): string[] | undefined {
  const previous = new Map<string, string>([[entry, '']]);
  const queue = [entry];
  while (queue.length) {
    const path = queue.shift() as string;
    if (path.includes(part)) {
      const chain = [path];
      for (let at = previous.get(path); at; at = previous.get(at)) chain.unshift(at);
      return chain;
    }
    for (const { path: next } of metafile.inputs[path]?.imports ?? []) {
      if (!previous.has(next) && metafile.inputs[next]) {
        previous.set(next, path);
        queue.push(next);
      }
    }
  }
  return undefined;
}

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const files = args.includes('--files');
const whyPart = args.find((a) => a.startsWith('--why='))?.slice('--why='.length);
for (const [name, entry] of Object.entries(DEFAULT_ENTRIES)) {
  if (names.length && !names.includes(name)) continue;
  const result = await build({ ...esbuildOptions(entry, `/tmp/${name}.mjs`), metafile: true, write: false });
  const [output] = Object.values(result.metafile.outputs);
  const total = result.outputFiles?.[0]?.contents.byteLength ?? 0;
  process.stdout.write(`\n${name}: ${(total / 1000).toFixed(1)} KB\n`);
  if (whyPart) {
    const entryInput = Object.keys(result.metafile.inputs).find((p) => p.endsWith(entry)) ?? entry;
    process.stdout.write(`${(why(result.metafile, entryInput, whyPart) ?? ['(not in this bundle)']).join('\n  → ')}\n`);
    continue;
  }
  const groups = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const key = files ? path.replace(/^.*node_modules\//, '') : groupOf(path);
    groups.set(key, (groups.get(key) ?? 0) + bytesInOutput);
  }
  for (const [key, bytes] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, files ? 80 : 40)) {
    if (bytes >= 300) process.stdout.write(`  ${(bytes / 1000).toFixed(1).padStart(6)}  ${key}\n`);
  }
}
