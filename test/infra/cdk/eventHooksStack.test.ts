import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import cdkNag from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { EventHooksStack } from '../../../infra/cdk/eventHooksStack.ts';
import { FIXTURE_ENTRIES, findOne, synth } from './synth.ts';

const scratch = mkdtempSync(join(tmpdir(), 'stack-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const { AwsSolutionsChecks } = cdkNag;

/** cdk-nag's AwsSolutions findings (errors and warnings alike) that nobody acknowledged. */
function nagFindings(stack: EventHooksStack): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`),
  );
}

describe('EventHooksStack', () => {
  it('outputs the API URL, the bus name and ARN, the table and the queues', () => {
    // Act
    const { json } = synth();

    // Assess
    const outputs = json.Outputs ?? {};
    const [tableId] = findOne(json, 'AWS::DynamoDB::Table');
    const [busId] = findOne(json, 'AWS::Events::EventBus');
    const [topicId] = findOne(json, 'AWS::SNS::Topic');
    const [stageId] = findOne(json, 'AWS::ApiGatewayV2::Stage');
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'DeadLetterQueueUrl',
        'DeliveryQueueUrl',
        'EventBusArn',
        'EventBusName',
        'EventsDeadLetterQueueUrl',
        'TableName',
        'UserFunctionPrefix',
      ].sort(),
    );
    expect(outputs.TableName!.Value).toEqual({ Ref: tableId });
    expect(outputs.EventBusName!.Value).toEqual({ Ref: busId });
    expect(outputs.EventBusArn!.Value).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('https://');
    expect(JSON.stringify(outputs.ApiUrl!.Value)).not.toContain(stageId); // the $default stage has no path
    expect(outputs.UserFunctionPrefix!.Value).toBe('event-hooks-user');
    expect(outputs.AlarmTopicArn!.Value).toEqual({ Ref: topicId });
  });

  it('needs no account, region or lookup: it is environment-agnostic', () => {
    const { stack } = synth();
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  describe('cdk-nag AwsSolutions', () => {
    it('leaves no unacknowledged finding in the default deployment', () => {
      const { stack } = synth();
      expect(nagFindings(stack)).toEqual([]);
    });

    it('leaves none with open routes and a wildcard in invokableFunctionArns, which are acknowledged with reasons', () => {
      const { stack } = synth({
        adminIamAuth: false,
        ingestIamAuth: false,
        invokableFunctionArns: ['arn:aws:lambda:eu-west-1:123456789012:function:team-*'],
      });
      expect(nagFindings(stack)).toEqual([]);
    });

    it('does report what the design did not acknowledge', () => {
      // Prepare: a queue without a dead-letter queue, added next to the construct
      const { stack } = synth();
      new sqs.Queue(stack, 'Stray', { enforceSSL: true });

      // Act
      const findings = nagFindings(stack);

      // Assess
      expect(findings).toEqual([expect.stringMatching(/^error AwsSolutions-SQS3 at Test\/Stray\/Resource/)]);
    });

    it('stops synthesis of an app that registers the checks when, and only when, a finding is not acknowledged', () => {
      // Prepare
      const withChecks = (stray: boolean) => {
        const app = new App({ outdir: mkdtempSync(join(scratch, 'out-')) });
        Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
        const stack = new EventHooksStack(app, 'Test', { entries: FIXTURE_ENTRIES });
        if (stray) new sqs.Queue(stack, 'Stray', { enforceSSL: true });
        return app;
      };

      // Act + Assess
      expect(() => withChecks(false).synth()).not.toThrow();
      expect(() => withChecks(true).synth()).toThrow(/Test\/Stray\/Resource[\s\S]*AwsSolutions-SQS3/);
    });
  });
});
