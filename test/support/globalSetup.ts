import { nodeSupportNote } from '../../infra/local/nodeSupport.ts';

/**
 * Once per vitest run. The AWS SDK warns on every client's first call under Node < 22, and each test
 * file is its own process, so the 8-line notice used to repeat dozens of times; vitest.config.ts sets
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED for the test processes and this says it once, in
 * the same words as `npm start`'s banner.
 */
export default function setup(): void {
  // Each vitest project inherits this setup; the flag lives in the one main process they share.
  if (process.env.EVENT_HOOKS_NODE_NOTE_SHOWN === '1') return;
  process.env.EVENT_HOOKS_NODE_NOTE_SHOWN = '1';
  const note = nodeSupportNote(process.version);
  if (note) console.warn(note);
}
