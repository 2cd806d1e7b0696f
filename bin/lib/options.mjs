// Options and argument parsing every command shares.
import { readFileSync } from 'node:fs';
import { UsageError } from './client.mjs';

/**
 * Adds the options every command takes (docs/cli.md): where the service is, the key, machine output.
 * @param {import('commander').Command} command
 */
export function common(command) {
  return command
    .option(
      '--url <url>',
      'base URL of the service (default: $EVENT_HOOKS_URL, else http://127.0.0.1:$PORT, else port 8001)',
    )
    .option('--key <key>', 'API key, sent as Authorization: Bearer (default: $EVENT_HOOKS_KEY)')
    .option('--aws', 'sign requests with your AWS credentials (SigV4), for a deployment with authMode iam')
    .option('--region <region>', 'with --aws: the region of the deployment (default: $AWS_REGION, else from the URL)')
    .option('--json', "machine output: the API's JSON");
}

/** JSON from the command line; bad JSON is a usage error (exit 2), not a request the service refuses. */
export function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${error instanceof Error ? error.message : error}`);
  }
}

/** `--file f.json` (or `-` for stdin), else `--data '{...}'`, else `{}`. */
export function bodyFrom(options) {
  if (options.file !== undefined && options.data !== undefined) throw new UsageError('give --file or --data, not both');
  if (options.file !== undefined) {
    let text;
    try {
      text = readFileSync(options.file === '-' ? 0 : options.file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${options.file}: ${error instanceof Error ? error.message : error}`);
    }
    return parseJson(text, options.file);
  }
  return options.data !== undefined ? parseJson(options.data, '--data') : {};
}

/** Writes the value as indented JSON: what `--json` prints. */
export function printJson(value) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A duration: `10s`, `2m`, `500ms`, `1h`, or a number of seconds. */
export function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!match) throw new UsageError(`'${text}' is not a duration (e.g. 10s, 2m, 500ms)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'];
  const ms = Number(match[1]) * factor;
  if (ms < 100) throw new UsageError(`'${text}' is too short an interval (at least 100ms)`);
  return ms;
}
