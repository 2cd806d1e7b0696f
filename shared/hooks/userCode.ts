import vm from 'node:vm';

/**
 * User code of `lambda` hooks: JavaScript shaped like Kong's Lua, a function BODY that returns the
 * function, e.g. `return async function (data, event, source, pid) { return data }`. The body runs
 * as an async function, so it may `await` before returning the function.
 */

/** Largest accepted code string, in UTF-8 bytes (Kong keeps functions short; AWS needs them small). */
export const USER_CODE_MAX_BYTES = 64 * 1024;

/** Appended to every refusal of user code: Kong users arrive with Lua. */
export const USER_CODE_HELP =
  'functions are JavaScript: a function body that returns the function, e.g. `return function (data, event, source, pid) { return data }` (see docs/user-code.md)';

const FILENAME = 'function';
const AsyncFunction = (async () => {}).constructor as new (body: string) => unknown;

/**
 * `undefined` when the code compiles as a function body that returns something, otherwise why not
 * (with line and column when the parser gives them), followed by {@link USER_CODE_HELP}. Compiles
 * only: nothing of the user code runs in the service. Whether what it returns is a function is
 * known only by running it, which the function runner does in its sandbox when the hook is deployed.
 *
 * @example
 * userCodeSyntaxError('return function (data) { return data }'); // undefined
 * userCodeSyntaxError('return function (data) { return data +'); // 'function does not compile: … (line 1, column 38); functions are JavaScript…'
 */
export function userCodeSyntaxError(code: string): string | undefined {
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > USER_CODE_MAX_BYTES) {
    return `function is too long (${bytes} bytes, at most ${USER_CODE_MAX_BYTES})`;
  }
  if (code.trim() === '') return `function is empty; ${USER_CODE_HELP}`;
  const problem = compileError(code);
  if (problem !== undefined) {
    const lua = looksLikeLua(code) ? 'this looks like Lua, as in Kong; ' : '';
    return `${problem}; ${lua}${USER_CODE_HELP}`;
  }
  if (returnsNothing(code)) return `the code does not return a function (it has no \`return\`); ${USER_CODE_HELP}`;
  return undefined;
}

function compileError(code: string): string | undefined {
  const located = compileWrapped(code);
  if (located) return located;
  // The wrapper above can be closed early by code like `}); other(); (function () {`; the
  // function constructor parses the text strictly as one body, which is how the runners load it.
  try {
    new AsyncFunction(code);
    return undefined;
  } catch (error) {
    return `function does not compile: ${(error as Error).message}`;
  }
}

/**
 * A body that also compiles as a script has no `return` (nor `await`) of its own, as both are
 * syntax errors at a script's top level: it resolves to `undefined`, never to a function (e.g. `1+1`).
 */
function returnsNothing(code: string): boolean {
  try {
    new vm.Script(code, { filename: FILENAME });
    return true;
  } catch {
    return false;
  }
}

/** Kong's functions are Lua: `local x = …`, `function (…) … end`, `if … then`, `~=`, `..`. */
const LUA_MARKERS = [
  /(^|\n)\s*local\s+[A-Za-z_]/,
  /\bfunction\s*[A-Za-z_.:]*\s*\([^)]*\)(?![\s\S]*\{)[\s\S]*\bend\b/,
  /\bthen\b[\s\S]*\bend\b/,
  /\bend\s*$/,
  /~=/,
  /(^|\n)\s*--/,
];

/** How much of the code the Lua hint looks at: some markers scan back and forth, so their time grows with the square. */
const LUA_SAMPLE_CHARS = 2_000;

/** Whether code that does not compile as JavaScript is likely Lua (only a hint in the message). */
export function looksLikeLua(code: string): boolean {
  const sample = code.slice(0, LUA_SAMPLE_CHARS);
  return LUA_MARKERS.some((marker) => marker.test(sample));
}

/** Compiles the code wrapped in an async function so that V8 reports where the error is. */
function compileWrapped(code: string): string | undefined {
  try {
    // The body starts on its own line and lineOffset -1 makes reported lines the user's own.
    new vm.Script(`(async function () {\n${code}\n})`, { filename: FILENAME, lineOffset: -1 });
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = error instanceof Error ? locate(error, code) : undefined;
    return `function does not compile: ${message}${where ? ` (${where})` : ''}`;
  }
}

/** Node decorates a SyntaxError's stack with `function:<line>`, the source line and a caret line. */
function locate(error: Error, code: string): string | undefined {
  const [head, , caret] = (error.stack ?? '').split('\n');
  const match = head?.match(new RegExp(`^${FILENAME}:(\\d+)$`));
  if (!match) return undefined;
  const line = Number(match[1]);
  const lines = code.split('\n').length;
  if (line < 1) return 'at the start of the code';
  if (line > lines) return 'at the end of the code';
  const column = caret?.indexOf('^') ?? -1;
  return column >= 0 ? `line ${line}, column ${column + 1}` : `line ${line}`;
}
