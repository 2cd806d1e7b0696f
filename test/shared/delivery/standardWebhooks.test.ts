import { describe, expect, it } from 'vitest';
import {
  generateWhsec,
  signatureHeaders,
  signingSecrets,
  standardSignature,
  whsecError,
  whsecKey,
} from '../../../shared/delivery/signing.ts';

// The specification's own example (standard-webhooks, spec/standard-webhooks.md).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it('matches the specification vector', () => {
    expect(standardSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(standardSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(
      VECTOR.signature,
    );
  });

  it('signs the id, the timestamp and the body: changing any one changes the signature', () => {
    const { secret, id, timestamp, body, signature } = VECTOR;
    expect(standardSignature(secret, `${id}x`, timestamp, body)).not.toBe(signature);
    expect(standardSignature(secret, id, timestamp + 1, body)).not.toBe(signature);
    expect(standardSignature(secret, id, timestamp, `${body} `)).not.toBe(signature);
  });

  it('sends the three headers, every signing secret space-separated, at the time of the attempt', () => {
    const config = {
      secret: VECTOR.secret,
      signing: 'standard-webhooks' as const,
      previous_secret: { secret: generateWhsec(), expires_at: VECTOR.timestamp + 60 },
    };
    const headers = signatureHeaders(config, Buffer.from(VECTOR.body), VECTOR.id, VECTOR.timestamp * 1000 + 999);
    const second = standardSignature(config.previous_secret.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': `${VECTOR.signature} ${second}`,
    });
  });

  it('drops the previous secret once its overlap has ended, whatever is stored', () => {
    const config = {
      secret: VECTOR.secret,
      signing: 'standard-webhooks' as const,
      previous_secret: { secret: generateWhsec(), expires_at: 1000 },
    };
    expect(signingSecrets(config, 999)).toEqual([VECTOR.secret, config.previous_secret.secret]);
    expect(signingSecrets(config, 1000)).toEqual([VECTOR.secret]);
    const headers = signatureHeaders(config, Buffer.from(VECTOR.body), VECTOR.id, VECTOR.timestamp * 1000);
    expect(headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it('keeps the kong scheme as it was: one x-kong-signature, only with a secret and a body', () => {
    expect(signatureHeaders({ secret: 'hunter2' }, Buffer.from('foobar'), 'id', 0)).toEqual({
      'x-kong-signature': 'sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62',
    });
    expect(signatureHeaders({ secret: 'hunter2', signing: 'kong' }, undefined, 'id', 0)).toEqual({});
    expect(signatureHeaders({ secret: null }, Buffer.from('foobar'), 'id', 0)).toEqual({});
  });

  it('signs a request without a body over an empty body', () => {
    const headers = signatureHeaders({ secret: VECTOR.secret, signing: 'standard-webhooks' }, undefined, 'm', 5000);
    expect(headers['webhook-signature']).toBe(standardSignature(VECTOR.secret, 'm', 5, ''));
  });

  it('accepts only whsec_ secrets of canonical base64 holding 24 to 64 bytes, and generates such secrets', () => {
    expect(whsecKey(VECTOR.secret)?.length).toBe(24);
    const generated = generateWhsec();
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(whsecError(generated)).toBeUndefined();
    expect(generateWhsec()).not.toBe(generated);
    for (const bad of [
      'hunter2',
      'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', // not a whole number of base64 quanta
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw',
      `whsec_${Buffer.alloc(16).toString('base64')}`, // too short a key
      `whsec_${Buffer.alloc(65).toString('base64')}`, // too long a key
    ]) {
      expect(whsecError(bad), bad).toMatch(/^must be 'whsec_' followed by the base64/);
    }
  });
});
