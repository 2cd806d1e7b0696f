/**
 * Which Node.js runs the local service. Supported: Node 22 and 24 (both LTS; 24 is also the Lambda
 * runtime of the functions). Node 20 is past its end of life and AWS SDK releases published after
 * the first week of January 2027 refuse it; it still runs today, with the note below.
 */
export const SUPPORTED_NODE = '>=22';
const MIN_SUPPORTED_MAJOR = 22;

/**
 * The environment variable that turns off the AWS SDK's own NodeVersionSupportWarning
 * (@aws-sdk/core emitWarningIfUnsupportedVersion). It silences only that notice, which `npm start`
 * replaces with `nodeSupportNote`: said once, in the banner, instead of 10 lines from the first client.
 */
export const SDK_NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** One line to print at start when `version` (e.g. `v20.20.2`) is older than the supported range; else undefined. */
export function nodeSupportNote(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!Number.isInteger(major) || major >= MIN_SUPPORTED_MAJOR) return undefined;
  return (
    `note: Node ${version} is past its end of life; event-hooks supports Node ${SUPPORTED_NODE} (22 or 24), ` +
    `and AWS SDK releases after the first week of January 2027 will not run on Node ${major}`
  );
}
