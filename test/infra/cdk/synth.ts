import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { EventHooksStack, type EventHooksStackProps } from '../../../infra/cdk/eventHooksStack.ts';
import { FIXTURE_BUNDLE_DIR_ENV } from './fixtureEntries.ts';

export { FIXTURE_ENTRIES, FIXTURE_ENTRY } from './fixtureEntries.ts';

export interface Synthesized {
  app: App;
  stack: EventHooksStack;
  template: Template;
  json: { Resources: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> };
}

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/**
 * The fixture bundled once per run of the infra tier by its global setup (test/support/infraGlobalSetup.ts),
 * so neither a test nor a file pays for esbuild.
 */
function fixtureBundles(): string {
  const dir = process.env[FIXTURE_BUNDLE_DIR_ENV];
  if (!dir) throw new Error(`${FIXTURE_BUNDLE_DIR_ENV} is not set: run this file in the infra tier (--project infra)`);
  return dir;
}

/** Synthesises the stack in-process (no credentials, no network): env-agnostic, fixture code. */
export function synth(props: EventHooksStackProps = {}): Synthesized {
  const app = new App();
  const stack = new EventHooksStack(app, 'Test', { bundleDir: fixtureBundles(), ...props });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Synthesized['json'] };
}

/** Logical ids of the resources of a type. */
export function idsOf(json: Synthesized['json'], type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

/** The one resource of `type` whose properties include `match` (shallow). */
export function findOne(
  json: Synthesized['json'],
  type: string,
  match: Record<string, unknown> = {},
): [string, CfnResource] {
  const found = Object.entries(json.Resources).filter(
    ([, r]) =>
      r.Type === type &&
      Object.entries(match).every(([k, v]) => JSON.stringify(r.Properties?.[k]) === JSON.stringify(v)),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${type} matching ${JSON.stringify(match)}, found ${found.length}`);
  return found[0]!;
}

/** Does this CloudFormation value point at the resource with this logical id? */
export function refersTo(value: unknown, logicalId: string): boolean {
  return JSON.stringify(value).includes(`"${logicalId}"`);
}

export interface Permission {
  action: string;
  resource: unknown;
  condition?: unknown;
}

/** Every (action, resource) pair the role of a service function is allowed, from all of its policies. */
export function permissionsOf(json: Synthesized['json'], functionName: string): Permission[] {
  const [, fn] = findOne(json, 'AWS::Lambda::Function', { FunctionName: functionName });
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return permissionsOfRole(json, roleId);
}

export function permissionsOfRole(json: Synthesized['json'], roleId: string): Permission[] {
  const pairs: Permission[] = [];
  for (const [, policy] of Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy')) {
    const roles = policy.Properties.Roles as unknown[];
    if (!roles.some((r) => refersTo(r, roleId))) continue;
    const document = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of document.Statement) {
      expect(statement.Effect).toBe('Allow');
      const actions = [statement.Action].flat() as string[];
      const resources = [statement.Resource].flat();
      for (const action of actions) {
        for (const resource of resources) {
          pairs.push({ action, resource, ...(statement.Condition ? { condition: statement.Condition } : {}) });
        }
      }
    }
  }
  return pairs;
}
