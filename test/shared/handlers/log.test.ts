import { describe, expect, it } from 'vitest';
import { log } from '../../../shared/handlers/log.ts';
import { hookOf, testDeps } from './fixtures.ts';

describe('log handler', () => {
  it('writes one structured line with the hook id, source, event and data', async () => {
    // Prepare
    const deps = testDeps();
    const hook = hookOf('log', {});
    const data = { operation: 'create', entity: { id: 'c1', username: 'bob' } };

    // Act
    const result = await log(hook, deps).callback({ source: 'crud', event: 'consumers:create', data });
    deps.http.close();

    // Assess
    expect(deps.logger.lines).toHaveLength(1);
    expect(deps.logger.lines[0]).toMatchObject({
      level: 'info',
      message: 'event hook',
      hook_id: hook.id,
      source: 'crud',
      event: 'consumers:create',
      data,
    });
    expect(result).toEqual({ logged: true });
  });

  it('masks secret-looking fields of the data in the line', async () => {
    // Prepare
    const deps = testDeps();

    // Act
    await log(hookOf('log', {}), deps).callback({ source: 's', event: 'e', data: { password: 'p4ss', user: 'bob' } });
    deps.http.close();

    // Assess
    expect(deps.logger.lines[0]?.data).toEqual({ password: '[redacted]', user: 'bob' });
  });

  it('hides cookies as it hides other credentials', async () => {
    const deps = testDeps();
    await log(hookOf('log', {}), deps).callback({
      source: 's',
      event: 'e',
      data: { headers: { cookie: 'sid=1', 'Set-Cookie': 'a=1', accept: '*/*' } },
    });
    deps.http.close();
    expect(deps.logger.lines[0]?.data).toEqual({
      headers: { cookie: '[redacted]', 'Set-Cookie': '[redacted]', accept: '*/*' },
    });
  });
});
