/**
 * The template renderer (shared/hooks/templates.ts) counts output bytes with Node's `Buffer.byteLength`;
 * the console runs the same renderer, so esbuild injects this one function in its place.
 */
const encoder = new TextEncoder();

export const Buffer = {
  byteLength: (text: string, _encoding: 'utf8'): number => encoder.encode(text).length,
};
