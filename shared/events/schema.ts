import type { Static } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { PRODUCER_EVENT_ID } from './envelope.ts';

/**
 * What a producer posts to `POST /events`: one event, or a batch (an array) of them. Checked on the
 * hot path, so the check is compiled once (shared/pipeline/ingest.ts); the catalog lookup and the
 * size of `data` are refinements after it.
 */
export const PostedEventSchema = Type.Object(
  {
    source: Type.String({ description: 'A registered source (`GET /event-hooks/sources`).' }),
    event: Type.String({ description: 'An event of that source.' }),
    // Any object: its keys are the producer's (a record schema would test each against a pattern).
    data: Type.Object(
      {},
      {
        additionalProperties: true,
        typeMessage: 'expected an object',
        description: 'The event data, a JSON object (at most `MAX_EVENT_BYTES` as JSON).',
      },
    ),
    id: Type.Optional(
      Type.String({
        pattern: PRODUCER_EVENT_ID.source,
        kongMessage: 'expected at most 128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"',
        description: "The producer's own id: an event posted again with the same source and id is not published again.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type PostedEvent = Static<typeof PostedEventSchema>;

/** The body of `POST /events`. */
export const PostEventsBodySchema = Type.Union([PostedEventSchema, Type.Array(PostedEventSchema, { minItems: 1 })]);

/** One accepted event of the `202` answer. */
export const AcceptedEventSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  time: Type.String({ format: 'date-time' }),
  source: Type.String(),
  event: Type.String(),
});
