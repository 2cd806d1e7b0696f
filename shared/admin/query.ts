import type { Static } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { InvalidSizeError } from '../errors.ts';
import { compile } from '../schema/kongErrors.ts';

/** The query parameters of every paged list (`/event-hooks`, `/dead-letters`, …), declared once. */
export const PageSizeSchema = Type.Integer({
  minimum: 1,
  maximum: 1000,
  default: 100,
  description: 'Entries per page.',
});
export const PageQuerySchema = Type.Object({
  size: Type.Optional(PageSizeSchema),
  offset: Type.Optional(Type.String({ description: 'Where the page starts: the `offset` of the previous answer.' })),
});
export type PageQuery = Static<typeof PageQuerySchema>;

const SIZE_CHECK = compile(PageSizeSchema);

/**
 * The page `size` of a list request: its default when absent, else an integer within the schema's
 * bounds, or Kong's `invalid size` (code 9) rather than a schema violation, as Kong answers.
 */
export function pageSize(query: URLSearchParams): number {
  const raw = query.get('size');
  if (raw === null) return PageSizeSchema.default;
  // A query value is text: only plain digits are a number here (`1e2`, ` 5` and `0x10` are not).
  const size = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!SIZE_CHECK.Check(size)) {
    throw new InvalidSizeError(
      `size must be an integer between ${PageSizeSchema.minimum} and ${PageSizeSchema.maximum}`,
    );
  }
  return size;
}

/**
 * The query of `PUT /event-hooks/{id}`: `dry_run=true` checks and answers the hook without storing
 * it (router.ts reads it, refusing any other value, so a typo never turns a dry run into a write).
 */
export const PutHookQuerySchema = Type.Object({
  dry_run: Type.Optional(
    Type.Boolean({ default: false, description: 'Validate and answer what would be stored; write nothing.' }),
  ),
});
