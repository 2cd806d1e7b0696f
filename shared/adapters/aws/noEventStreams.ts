/**
 * Stands in for `@smithy/core/event-streams` inside the Lambda bundles (an esbuild alias in
 * infra/bundle.ts). Every SDK client's protocol loads the event-stream codec when an operation
 * streams events, and the Lambda client wires a marshaller for `InvokeWithResponseStream` as it is
 * built; none of the operations this service calls streams events, so the codec (about 15 KB
 * minified, in every bundle) is dead weight there. Using an event stream fails loudly instead.
 * Elsewhere (the local runtime, tests), the real module is used.
 */
class EventStreamsNotBundledError extends Error {
  override readonly name = 'EventStreamsNotBundledError';
  constructor() {
    super('event streams are not bundled in this function (infra/bundle.ts aliases @smithy/core/event-streams)');
  }
}

const unsupported = (): never => {
  throw new EventStreamsNotBundledError();
};

/** What a client's config resolver builds its event-stream marshaller with. */
export const eventStreamSerdeProvider = () => ({ serialize: unsupported, deserialize: unsupported });

/** As the real resolver: the marshaller from the provider (here, one that refuses to be used). */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(
  input: T,
) => Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** What a protocol loads with `import()` to read or write an event stream. */
export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}
