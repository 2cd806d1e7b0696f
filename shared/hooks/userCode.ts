import vm from 'node:vm';

/**
 * User code of `lambda` hooks: JavaScript shaped like Kong's Lua, a function BODY that returns the
 * function, e.g. `return async function (data, event, source, pid) { return data }`. The body runs
 * as an async function, so it may `await` before returning the function.
 */

/** Largest accepted code string, in UTF-8 bytes (Kong keeps functions short; AWS needs them small). */
export const USER_CODE_MAX_BYTES = 64 * 1024;

const FILENAME = 'function';
const AsyncFunction = (async () => {}).constructor as new (body: string) => unknown;

/**
 * `undefined` when the code compiles as a function body, otherwise why it does not (with line and
 * column when the parser gives them). Compiles only: nothing of the user code runs here.
 *
 * @example
 * userCodeSyntaxError('return function (data) { return data }'); // undefined
 * userCodeSyntaxError('return function (data) { return data +'); // 'function does not compile: … (line 1, column 38)'
 */
export function userCodeSyntaxError(code: string): string | undefined {
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > USER_CODE_MAX_BYTES) {
    return `function is too long (${bytes} bytes, at most ${USER_CODE_MAX_BYTES})`;
  }
  if (code.trim() === '') return 'function is empty';
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
