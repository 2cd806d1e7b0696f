import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kongSignature } from '../../../shared/delivery/signing.ts';

describe('kongSignature', () => {
  it('matches the reference vector: hunter2 over foobar', () => {
    expect(kongSignature('hunter2', 'foobar')).toBe('sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62');
  });

  it('signs bytes and the equal UTF-8 string alike', () => {
    // Prepare
    const text = '{"name":"Zoë ☃"}';

    // Act
    const fromString = kongSignature('s3cret', text);
    const fromBytes = kongSignature('s3cret', Buffer.from(text, 'utf8'));

    // Assess
    expect(fromBytes).toBe(fromString);
    expect(fromBytes).toBe(`sha1=${createHmac('sha1', 's3cret').update(Buffer.from(text, 'utf8')).digest('hex')}`);
  });

  it('changes when a single byte of the body changes', () => {
    expect(kongSignature('hunter2', 'foobar')).not.toBe(kongSignature('hunter2', 'foobaR'));
  });
});
