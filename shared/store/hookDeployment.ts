import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HookDeployment } from '../hooks/hook.ts';
import { isConditionalCheckFailed } from './dynamo.ts';
import { bumpHooksVersion } from './hookStore.ts';
import { keys } from './table.ts';

/**
 * Records where the deployment of the hook stored at revision `rev` stands, and bumps the hooks
 * version so that caches (the delivery worker's) see it. The revision is left as it is, so an
 * Admin API write that read the hook meanwhile still succeeds. Resolves false, writing nothing, when
 * the hook has been changed or deleted since: that version has its own deploy job.
 */
export async function setHookDeployment(
  client: DynamoDBDocumentClient,
  tableName: string,
  change: { tenant: string; id: string; rev: number; deployment: HookDeployment },
): Promise<boolean> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.hook(change.tenant, change.id),
        // Beside the hook's JSON text, which the store reads it over (see `decodeHook`).
        UpdateExpression: 'SET #deployment = :deployment',
        ConditionExpression: 'rev = :rev',
        ExpressionAttributeNames: { '#deployment': 'deployment' },
        ExpressionAttributeValues: { ':deployment': change.deployment, ':rev': change.rev },
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
  await bumpHooksVersion(client, tableName, change.tenant);
  return true;
}
