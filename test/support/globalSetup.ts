/**
 * Once per vitest run. The AWS SDK warns on every client's first call under Node < 22, and each test
 * file is its own process, so the 8-line notice used to repeat dozens of times; vitest.config.ts sets
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED for the test processes and this says it once.
 */
export default function setup(): void {
  // Each vitest project inherits this setup; the flag lives in the one main process they share.
  if (process.env.EVENT_HOOKS_NODE_NOTE_SHOWN === '1') return;
  process.env.EVENT_HOOKS_NODE_NOTE_SHOWN = '1';
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.warn(
      `Note: Node ${process.version}: AWS SDK releases after early January 2027 need Node >= 22 ` +
        '(its NodeVersionSupportWarning is shown once here instead of once per test file).',
    );
  }
}
