// Loads one Lambda bundle in a fresh Node process, as the Lambda runtime would, and calls its
// handler once with the event read from stdin; prints the result as JSON on the last line.
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const context = {
  awsRequestId: 'test-request',
  functionName: 'bundle-test',
  getRemainingTimeInMillis: () => 30_000,
  callbackWaitsForEmptyEventLoop: false,
};
const { handler } = await import(pathToFileURL(bundle).href);
const result = await handler(JSON.parse(input), context);
process.stdout.write(`\n${JSON.stringify(result ?? null)}\n`);
process.exit(0);
