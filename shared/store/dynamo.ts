import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { tableDefinition } from './table.ts';

export interface DynamoConfig {
  /** Local endpoint (dynalite, DynamoDB Local); unset on AWS. */
  endpoint?: string;
  region?: string;
  /** The local store's key (the embedded store's per-start credential); default a fixed dummy key. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The document client every store module shares; one per process so connections are reused. */
export function createDocumentClient(config: DynamoConfig = {}): DynamoDBDocumentClient {
  const clientConfig: DynamoDBClientConfig = { region: config.region ?? process.env.AWS_REGION ?? 'us-east-1' };
  if (config.endpoint) {
    clientConfig.endpoint = config.endpoint;
    // The embedded store checks its per-start key; DynamoDB Local accepts any. Given ones keep the SDK
    // from searching the machine for real ones.
    clientConfig.credentials = config.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

/** Creates the table if it does not exist yet and waits until it is active (local runtime and tests). */
export async function ensureTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
      if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${tableName} did not become active`);
}

/** A conditional write lost (the SDK's `ConditionalCheckFailedException`, from any backend). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Every item a query matches, page after page (the SDK's own paginator). */
export async function* queryItems(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  for await (const page of paginateQuery({ client }, input)) yield* page.Items ?? [];
}
