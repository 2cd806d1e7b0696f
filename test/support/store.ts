import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type EmbeddedStore, startDynalite, startDynamoDbLocal } from '../../infra/local/embeddedStore.ts';
import type { StoreCredentials } from '../../infra/local/storeCredential.ts';
import { createDocumentClient, ensureTable } from '../../shared/store/dynamo.ts';

export interface TestStore {
  client: DynamoDBDocumentClient;
  tableName: string;
  endpoint: string;
  /** The key the store accepts (dynalite's per-start credential). */
  credentials: StoreCredentials;
  backend: 'dynalite' | 'dynamodb-local';
  close(): Promise<void>;
}

/**
 * A real DynamoDB-compatible store for one test file: dynalite by default, Amazon's DynamoDB Local
 * when `STORE_BACKEND=dynamodb-local`. Every call gets a fresh table, so tests never see each other's data.
 */
export async function startTestStore(): Promise<TestStore> {
  const backend = process.env.STORE_BACKEND === 'dynamodb-local' ? 'dynamodb-local' : 'dynalite';
  const server: EmbeddedStore = backend === 'dynamodb-local' ? await startDynamoDbLocal() : await startDynalite();
  const client = createDocumentClient({ endpoint: server.endpoint, credentials: server.credentials });
  const tableName = `test-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  return {
    client,
    tableName,
    endpoint: server.endpoint,
    credentials: server.credentials,
    backend,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
