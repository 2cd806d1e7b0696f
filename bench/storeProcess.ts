/**
 * The embedded store in a process of its own, for `npm run cost`: the cost model measures the CPU
 * time of our code as Lambda would bill it, and DynamoDB's own work is not part of that. Prints
 * `{"endpoint","credentials"}` as one line once it listens; stops when its parent closes stdin.
 */
import { startDynalite } from '../infra/local/embeddedStore.ts';

const store = await startDynalite();
process.stdout.write(`${JSON.stringify({ endpoint: store.endpoint, credentials: store.credentials })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  store.close().finally(() => process.exit(0));
});
