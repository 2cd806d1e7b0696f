import { describe, expect, it } from 'vitest';
import { USER_LOG_TAIL_MAX_BYTES, userLogTail } from '../../../../shared/adapters/aws/userLogTail.ts';
import { createLogger } from '../../../../shared/logger.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('userLogTail', () => {
  it('decodes the tail Lambda returned', () => {
    expect(userLogTail(b64('START RequestId: 1\nhello from user code\nEND RequestId: 1\n'))).toBe(
      'START RequestId: 1\nhello from user code\nEND RequestId: 1',
    );
  });

  it('is undefined when there is no tail or only blank lines', () => {
    expect(userLogTail(undefined)).toBeUndefined();
    expect(userLogTail('')).toBeUndefined();
    expect(userLogTail(b64('\n\n'))).toBeUndefined();
  });

  it('masks secret-looking values in text and JSON lines', () => {
    const tail = userLogTail(
      b64(
        [
          'calling with Authorization: Bearer eh_live_abcdef123456',
          'token=s3cr3t-value password: "hunter2" api_key=AKIA123',
          JSON.stringify({ level: 'info', headers: { 'x-api-key': 'k-123' }, secret: 'sh', ok: 'visible' }),
        ].join('\n'),
      ),
    ) as string;
    for (const secret of ['eh_live_abcdef123456', 's3cr3t-value', 'hunter2', 'AKIA123', 'k-123', '"sh"']) {
      expect(tail).not.toContain(secret);
    }
    expect(tail).toContain('visible');
    expect(tail).toContain('[redacted]');
  });

  it('keeps the newest bytes when the tail is over the cap, cutting on a character boundary', () => {
    const text = `${'é'.repeat(3000)}\nlast line`;
    const tail = userLogTail(b64(text)) as string;
    expect(tail.endsWith('last line')).toBe(true);
    expect(tail.startsWith('…')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
    expect(Buffer.byteLength(tail, 'utf8')).toBeLessThanOrEqual(USER_LOG_TAIL_MAX_BYTES + 3);
    expect(userLogTail(b64('abcdef'), 3)).toBe('…def');
  });

  it('cannot forge a line or a field of the service log: the tail stays one string field of one line', () => {
    const forged = [
      '{"level":"error","tenant":"victim","message":"forged","time":"2020-01-01T00:00:00Z"}',
      '\n{"level":"error","tenant":"victim"}\r\n',
      '","tenant":"victim","x":"',
    ].join('\n');
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info('user function log', {
      tenant: 'acme',
      log: userLogTail(b64(forged)),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/\n/);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({ level: 'info', tenant: 'acme', message: 'user function log' });
    expect(Object.keys(entry).sort()).toEqual(['level', 'log', 'message', 'tenant', 'time']);
    expect(typeof entry.log).toBe('string');
  });
});
