import { describe, expect, it } from 'vitest';
import { BusStoppedError } from '../../../shared/adapters/local/eventBus.ts';
import { errorResponse } from '../../../shared/admin/http.ts';
import { jsonNestingExceeds } from '../../../shared/admin/limits.ts';
import {
  BadRequestError,
  ConflictError,
  DeliveryError,
  EventHooksError,
  FunctionError,
  HookTestFailedError,
  InvalidSizeError,
  MethodNotAllowedError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLargeError,
  SchemaViolationError,
  ServiceUnavailableError,
} from '../../../shared/errors.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { InvalidOffsetError } from '../../../shared/store/hookStore.ts';
import { startTestRuntime } from '../../support/runtime.ts';

describe('errorResponse', () => {
  it.each([
    ['SchemaViolationError', new SchemaViolationError({ source: 'required field missing' }), 400],
    ['BadRequestError', new BadRequestError('Cannot parse JSON body'), 400],
    ['InvalidSizeError', new InvalidSizeError('size must be an integer between 1 and 1000'), 400],
    ['InvalidOffsetError', new InvalidOffsetError("'x' is not a valid offset"), 400],
    ['NotFoundError', new NotFoundError(), 404],
    ['MethodNotAllowedError', new MethodNotAllowedError(), 405],
    ['ConflictError', new ConflictError('changed meanwhile'), 409],
    ['PayloadTooLargeError', new PayloadTooLargeError('too large'), 413],
    ['NotImplementedError', new NotImplementedError('not here'), 501],
    ['DeliveryError', new DeliveryError('receiver answered 500', { retryable: true }), 502],
    ['FunctionError', new FunctionError('user code threw'), 502],
    ['ServiceUnavailableError', new ServiceUnavailableError('shutting down'), 503],
    ['BusStoppedError', new BusStoppedError('shutting down'), 503],
  ])('answers %s with the status its class states, and logs nothing', (_name, error, status) => {
    // Prepare
    const logger = memoryLogger();

    // Act
    const res = errorResponse(error, logger);

    // Assess
    expect(error.status).toBe(status);
    expect(typeof error.retryable).toBe('boolean');
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body).message).toBe(error.message);
    expect(logger.lines).toEqual([]);
  });

  it('keeps Kong’s shapes for schema violations, invalid size and invalid offset', () => {
    const logger = memoryLogger();
    const violation = JSON.parse(errorResponse(new SchemaViolationError({ source: 'x' }), logger).body);
    expect(violation).toEqual({
      code: 2,
      name: 'schema violation',
      message: 'schema violation (source: x)',
      fields: { source: 'x' },
    });
    expect(JSON.parse(errorResponse(new InvalidSizeError('bad size'), logger).body)).toEqual({
      code: 9,
      name: 'invalid size',
      message: 'bad size',
    });
    expect(JSON.parse(errorResponse(new InvalidOffsetError('bad offset'), logger).body)).toEqual({
      code: 7,
      name: 'invalid offset',
      message: 'bad offset',
    });
  });

  it('answers a shutdown with 503 and Retry-After, as a retryable error', () => {
    const error = new BusStoppedError('the service is shutting down and accepts no new events');
    const res = errorResponse(error, memoryLogger());
    expect(error.retryable).toBe(true);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(
      errorResponse(new ServiceUnavailableError('busy', { retryAfterSeconds: 30 }), memoryLogger()).headers,
    ).toMatchObject({ 'retry-after': '30' });
  });

  it('answers an AWS throttling error, bare or as the cause of ours, with 503 and Retry-After', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    for (const error of [throttled, new EventHooksError('PutEvents failed', { cause: throttled })]) {
      const logger = memoryLogger();
      const res = errorResponse(error, logger);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(JSON.parse(res.body)).toEqual({ message: 'the service is busy: try again shortly' });
      expect(logger.lines.some((l) => l.level === 'error')).toBe(false);
    }
  });

  it('answers a failed /test with Kong’s message (typo included) and the reason', () => {
    const res = errorResponse(new HookTestFailedError('connect ECONNREFUSED'), memoryLogger());
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'An unexpected error ocurred', err: 'connect ECONNREFUSED' });
  });

  it.each([
    ['an error outside the hierarchy', new TypeError('secret table name in here')],
    ['a failure of the service itself', new EventHooksError('could not deploy Lambda function secret-fn')],
    ['something thrown that is no error', 'a string'],
  ])('answers %s with a logged 500 that tells nothing of it', (_name, error) => {
    const logger = memoryLogger();
    const res = errorResponse(error, logger);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'An unexpected error occurred' });
    expect(logger.lines).toMatchObject([{ level: 'error', message: 'unexpected error' }]);
  });
});

describe('POST /events during shutdown', () => {
  it('answers 503 with Retry-After, not 500', async () => {
    // Prepare: before, BusStoppedError's 503 was turned into a 500 by the presenter.
    const t = await startTestRuntime();
    try {
      await t.runtime.bus.stop();

      // Act
      const res = await t.request('POST', '/events', { source: 'crud', event: 'consumers', data: {} });

      // Assess
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.body).toEqual({ message: 'the service is shutting down and accepts no new events' });
      expect(t.logs.filter((line) => line.level === 'error')).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('jsonNestingExceeds', () => {
  it.each([
    ['flat', '{"a":1}', 1, false],
    ['at the limit', '{"a":[{"b":[]}]}', 4, false],
    ['one past the limit', '{"a":[{"b":[]}]}', 3, true],
    ['brackets in strings', '{"a":"[[[[{{{{"}', 1, false],
    ['escaped quotes in strings', '{"a":"\\"[[[["}', 1, false],
    ['an escaped backslash before the closing quote', '{"a":"\\\\","b":[[]]}', 2, true],
    ['siblings do not add up', '[[],[],[],[]]', 2, false],
    ['unbalanced openers', '['.repeat(100_000), 64, true],
  ])('%s', (_name, text, max, expected) => {
    expect(jsonNestingExceeds(text, max)).toBe(expected);
  });
});
