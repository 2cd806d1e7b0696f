import { describe, expect, it } from 'vitest';
import { USER_CODE_HELP, USER_CODE_MAX_BYTES, userCodeSyntaxError } from '../../../shared/hooks/userCode.ts';

describe('userCodeSyntaxError', () => {
  it('accepts function bodies that return a function, in the shapes users write', () => {
    // Prepare
    const bodies = [
      'return function (data, event, source, pid) { return data }',
      'return async function (data) { return { ...data, seen: true } }',
      'return (data) => data + " WORLD"',
      'const suffix = await Promise.resolve("!")\nreturn (data) => data + suffix',
    ];

    // Act
    const errors = bodies.map(userCodeSyntaxError);

    // Assess
    expect(errors).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('says where code that does not compile goes wrong, in the user’s own line numbers', () => {
    // Act
    const error = userCodeSyntaxError('return function (data) {\n  return data +* 2\n}');

    // Assess
    expect(error).toBe(`function does not compile: Unexpected token '*' (line 2, column 16); ${USER_CODE_HELP}`);
  });

  it('reports an unclosed function as an error at the end of the code', () => {
    // Act
    const error = userCodeSyntaxError('return function (data) {\n  return data');

    // Assess
    expect(error).toMatch(/^function does not compile: .+ \(at the end of the code\); functions are JavaScript/);
  });

  it('rejects code that closes the function body early to run statements outside it', () => {
    // Act
    const error = userCodeSyntaxError('}); globalThis.escaped = true; (async function () {');

    // Assess
    expect(error).toMatch(/^function does not compile: /);
  });

  it('compiles without running anything of the code', () => {
    // Prepare
    const code = 'globalThis.__userCodeRan = true; return () => 1';

    // Act
    const error = userCodeSyntaxError(code);

    // Assess
    expect(error).toBeUndefined();
    expect((globalThis as Record<string, unknown>).__userCodeRan).toBeUndefined();
  });

  it('rejects code over the size limit, counted in UTF-8 bytes', () => {
    // Prepare: fewer characters than the limit, but two bytes each
    const code = `// ${'é'.repeat(USER_CODE_MAX_BYTES / 2)}\nreturn (d) => d`;

    // Act
    const error = userCodeSyntaxError(code);

    // Assess
    expect(code.length).toBeLessThan(USER_CODE_MAX_BYTES);
    expect(error).toBe(`function is too long (${Buffer.byteLength(code)} bytes, at most ${USER_CODE_MAX_BYTES})`);
  });

  it('accepts code exactly at the size limit', () => {
    // Prepare
    const head = 'return (d) => d\n//';
    const code = head + 'x'.repeat(USER_CODE_MAX_BYTES - head.length);

    // Act / Assess
    expect(userCodeSyntaxError(code)).toBeUndefined();
  });

  it('rejects empty code', () => {
    expect(userCodeSyntaxError('  \n ')).toBe(`function is empty; ${USER_CODE_HELP}`);
  });

  it('refuses code that cannot return a function, as it has no return of its own (`1+1`)', () => {
    // Prepare: each compiles, and none has a `return` outside nested functions
    const bodies = ['1+1', 'const f = (d) => d; f', 'function handler(data) { return data }'];

    // Act
    const errors = bodies.map(userCodeSyntaxError);

    // Assess
    for (const error of errors) {
      expect(error).toBe(`the code does not return a function (it has no \`return\`); ${USER_CODE_HELP}`);
    }
    expect(USER_CODE_HELP).toMatch(/JavaScript/);
    expect(USER_CODE_HELP).toMatch(/docs\/user-code\.md/);
  });

  it('says that functions are JavaScript when Kong’s Lua is given', () => {
    // Prepare: Kong's examples (docs/reference.md §2.4) and typical Lua
    const lua = [
      'return function (data, event, source, pid)\n  local user = data.entity.username\n  error("Event hook on consumer " .. user .. "")\nend',
      'return function ()\n  return "HELLO"\nend',
      'local function f(data) return data end\nreturn f',
      'return function (data) if data ~= nil then return data end end',
    ];

    // Act
    const errors = lua.map(userCodeSyntaxError);

    // Assess
    for (const error of errors) {
      expect(error).toMatch(
        /^function does not compile: .+; this looks like Lua, as in Kong; functions are JavaScript/,
      );
    }
  });

  it('looks for Lua only at the start of the code, so a hostile body cannot make the hint scan it quadratically', () => {
    // `then … end` scanned over 32 KB of `then` took about 160 ms per function before.
    const hostile = `${'then '.repeat(6500)})`;
    expect(userCodeSyntaxError(hostile)).toMatch(/does not compile/);
    expect(userCodeSyntaxError(`${'x'.repeat(2_000)}\nlocal y = 1`)).not.toMatch(/Lua/);
    expect(userCodeSyntaxError(`local y = 1\n${'x'.repeat(2_000)}`)).toMatch(/looks like Lua/);
  });

  it('gives no Lua hint for JavaScript that merely does not compile', () => {
    expect(userCodeSyntaxError('return function (data) { return data +')).not.toMatch(/Lua/);
  });
});
