import { InvalidPatternError } from './patternError.ts';

/**
 * EventBridge's `wildcard` operator: `*` stands for any run of characters (none included), `\*` is
 * a literal star and `\\` a literal backslash; any other escape, and two wildcards in a row, are
 * refused as EventBridge refuses them. Matching is a left-to-right scan of the literal pieces
 * between wildcards (leftmost placement is always right for `*`-only globs), so its cost is linear
 * in the value for each piece, with no backtracking.
 *
 * @example compileWildcard('dir/*.png', 'FileName[0]')('dir/cat.png') // true
 */
export function compileWildcard(pattern: string, path: string): (value: string) => boolean {
  const pieces: string[] = [''];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidPatternError(path, 'wildcard escapes are only \\* and \\\\');
      }
      pieces[pieces.length - 1] += next;
      i++;
    } else if (char === '*') {
      if (pattern[i - 1] === '*') throw new InvalidPatternError(path, 'wildcard cannot hold consecutive * characters');
      pieces.push('');
    } else {
      pieces[pieces.length - 1] += char;
    }
  }
  if (pieces.length === 1) {
    const exact = pieces[0] as string;
    return (value) => value === exact;
  }
  const first = pieces[0] as string;
  const last = pieces.at(-1) as string;
  const middle = pieces.slice(1, -1);
  return (value) => {
    if (value.length < first.length + last.length) return false;
    if (!value.startsWith(first) || !value.endsWith(last)) return false;
    let from = first.length;
    const end = value.length - last.length;
    for (const piece of middle) {
      const at = value.indexOf(piece, from);
      if (at < 0 || at + piece.length > end) return false;
      from = at + piece.length;
    }
    return true;
  };
}
