import { describe, expect, it } from 'vitest';
import {
  EventStreamSerde,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '../../../../shared/adapters/aws/noEventStreams.ts';

// The stand-in for @smithy/core/event-streams in the Lambda bundles (infra/bundle.ts): building a
// client must work as with the real module, using an event stream must fail with a clear error.
describe('noEventStreams', () => {
  it('lets a client resolve its config, as the Lambda client does when it is built', () => {
    const config = resolveEventStreamSerdeConfig({ region: 'us-east-1', eventStreamSerdeProvider });
    expect(config.region).toBe('us-east-1');
    expect(() => (config.eventStreamMarshaller as { serialize(): void }).serialize()).toThrow(
      /event streams are not bundled/,
    );
  });

  it('refuses to read or write an event stream', () => {
    expect(() => new EventStreamSerde()).toThrow(/event streams are not bundled in this function/);
  });
});
