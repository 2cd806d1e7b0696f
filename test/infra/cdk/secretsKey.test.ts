import { describe, expect, it } from 'vitest';
import { findOne, permissionsOf, synth } from './synth.ts';

describe('the hook secrets key', () => {
  const { template, json } = synth();
  const [keyId] = findOne(json, 'AWS::KMS::Key');

  it('is one customer managed key with yearly rotation, kept with the table', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    // Without deletion protection the table goes with the stack, and the key with it.
    synth({ deletionProtection: false }).template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  it('reaches the functions as SECRETS_KEY_ARN', () => {
    const [, admin] = findOne(json, 'AWS::Lambda::Function', { FunctionName: 'event-hooks-admin' });
    const variables = (admin.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.SECRETS_KEY_ARN).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('seals only in admin, opens only in admin and delivery, and no other function can use it', () => {
    const kmsActions = (name: string) =>
      permissionsOf(json, `event-hooks-${name}`)
        .filter((p) => p.action.startsWith('kms:'))
        .map((p) => p.action)
        .sort();
    expect(kmsActions('admin')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kmsActions('delivery')).toEqual(['kms:Decrypt']);
    for (const name of ['ingest', 'dispatcher', 'deployer', 'sweeper']) {
      expect(kmsActions(name), name).toEqual([]);
    }
  });

  it('is out of reach of the authorizer of an api-keys deployment', () => {
    const keys = synth({ tenancy: 'multi', authMode: 'api-keys' });
    const actions = permissionsOf(keys.json, 'event-hooks-authorizer').map((p) => p.action);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.startsWith('kms:'))).toEqual([]);
  });
});
