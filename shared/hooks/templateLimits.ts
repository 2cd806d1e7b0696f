/**
 * The limits of template rendering (shared/hooks/templates.ts), apart from the renderer: the
 * configuration reads the default, and every function loads the configuration, while only those that
 * render or check templates (admin, delivery, local) should bundle mustache.
 */

/** Default cap on what one delivery's templates may render together (`TEMPLATE_MAX_BYTES`). */
export const DEFAULT_TEMPLATE_MAX_BYTES = 1024 * 1024;

/**
 * Cap on tokens visited in one delivery. Output that renders empty costs time all the same: a
 * thousand tags in a section over a hundred thousand elements would block for seconds. A million
 * steps is a few tenths of a second, and far beyond any template that sends a readable message.
 */
export const TEMPLATE_MAX_STEPS = 1_000_000;
