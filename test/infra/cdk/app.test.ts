import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../infra/bundle.ts';
import { defineApp, stackPropsFromContext } from '../../../infra/cdk/cdkApp.ts';
import { FIXTURE_ENTRIES, synth } from './synth.ts';

const scratch = mkdtempSync(join(tmpdir(), 'app-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('stackPropsFromContext', () => {
  it('reads the settings a deployer passes with -c key=value', () => {
    // Prepare: CLI context values arrive as strings
    const context: Record<string, string> = {
      namePrefix: 'acme',
      tenant: 't1',
      logRetentionDays: '14',
      adminIamAuth: 'false',
      deletionProtection: 'false',
      retryMaxAttempts: '4',
      userFunctionTimeoutSeconds: '8',
      memorySizes: '{"delivery":1024}',
      tracing: 'true',
      queueAgeAlarmSeconds: '600',
      captureBodies: 'false',
      eventRetentionDays: '30',
      invokableFunctionArns: 'arn:aws:lambda:eu-west-1:1:function:a, arn:aws:lambda:eu-west-1:1:function:b',
    };

    // Act
    const props = stackPropsFromContext((key) => context[key]);

    // Assess
    expect(props).toEqual({
      namePrefix: 'acme',
      tenant: 't1',
      logRetention: 14,
      adminIamAuth: false,
      deletionProtection: false,
      retry: { maxAttempts: 4 },
      userFunctionTimeout: Duration.seconds(8),
      memorySizes: { delivery: 1024 },
      tracing: true,
      queueAgeAlarmThreshold: Duration.seconds(600),
      captureBodies: false,
      eventRetentionDays: 30,
      invokableFunctionArns: ['arn:aws:lambda:eu-west-1:1:function:a', 'arn:aws:lambda:eu-west-1:1:function:b'],
    });
  });

  it('leaves everything to the construct defaults when no context is given', () => {
    expect(stackPropsFromContext(() => undefined)).toEqual({});
  });

  it('reads reservedConcurrency as off or as a JSON object', () => {
    expect(stackPropsFromContext((k) => (k === 'reservedConcurrency' ? 'off' : undefined))).toEqual({
      reservedConcurrency: false,
    });
    expect(stackPropsFromContext((k) => (k === 'reservedConcurrency' ? '{"ingest":50}' : undefined))).toEqual({
      reservedConcurrency: { ingest: 50 },
    });
    expect(() => stackPropsFromContext((k) => (k === 'reservedConcurrency' ? '[1]' : undefined))).toThrow(
      /reservedConcurrency must be off or a JSON object/,
    );
  });

  it('refuses, at synth, context values that would crash every function at its first cold start', () => {
    const stackWith = (context: Record<string, string>) => () => synth(stackPropsFromContext((k) => context[k]));
    expect(stackWith({ userFunctionTimeoutSeconds: '0' })).toThrow(
      /userFunctionTimeout must be whole seconds from 1 to 900, got 0 seconds/,
    );
    expect(stackWith({ retryMaxAttempts: '0' })).toThrow(/retry.maxAttempts must be a whole number from 1/);
    expect(stackWith({ userFunctionMemorySize: '64' })).toThrow(/userFunctionMemorySize .* got 64/);
  });

  it('refuses values that are not what the key needs', () => {
    expect(() => stackPropsFromContext((k) => (k === 'adminIamAuth' ? 'yes' : undefined))).toThrow(/true or false/);
    expect(() => stackPropsFromContext((k) => (k === 'logRetentionDays' ? '15' : undefined))).toThrow(/retention/);
    expect(() => stackPropsFromContext((k) => (k === 'maxReceiveCount' ? 'many' : undefined))).toThrow(/whole number/);
  });
});

describe('defineApp', () => {
  it('bundles first into bundleDir, then defines the stack on those bundles', async () => {
    // Prepare
    const bundleDir = join(scratch, 'in-process-bundles');
    const app = new App({
      outdir: join(scratch, 'in-process-out'),
      context: { entries: JSON.stringify(FIXTURE_ENTRIES), bundleDir, stackName: 'Hooks', namePrefix: 'ip' },
    });

    // Act
    const stack = await defineApp(app);

    // Assess
    for (const name of ['admin', 'ingest', 'dispatcher', 'delivery', 'deployer', 'sweeper']) {
      expect(existsSync(join(bundleDir, name, 'index.mjs'))).toBe(true);
    }
    expect(stack.stackName).toBe('Hooks');
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 6);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'ip-admin' });
  });

  it('registers the cdk-nag AwsSolutions checks, so an unacknowledged finding stops synthesis', async () => {
    // Prepare
    const app = new App({
      outdir: join(scratch, 'nag-out'),
      context: { entries: JSON.stringify(FIXTURE_ENTRIES), bundleDir: join(scratch, 'nag-bundles') },
    });
    const stack = await defineApp(app);

    // Act: a queue without a dead-letter queue
    new sqs.Queue(stack, 'Stray', { enforceSSL: true });

    // Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});

describe('npx cdk synth', () => {
  it('synthesises the app offline, with the cdk-nag checks, through the real CLI and cdk.json', async () => {
    // Prepare
    const out = join(scratch, 'cdk.out');
    const args = [
      'cdk',
      'synth',
      '--quiet',
      '--no-notices',
      '--output',
      out,
      '--context',
      `bundleDir=${join(scratch, 'cli-bundles')}`,
      '--context',
      `entries=${JSON.stringify(FIXTURE_ENTRIES)}`,
    ];

    // Act: rejects on a non-zero exit, which an unacknowledged cdk-nag finding would cause
    await promisify(execFile)('npx', args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
      timeout: 170_000,
    });

    // Assess
    const template = JSON.parse(readFileSync(join(out, 'EventHooks.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual([
      'event-hooks-admin',
      'event-hooks-delivery',
      'event-hooks-deployer',
      'event-hooks-dispatcher',
      'event-hooks-ingest',
      'event-hooks-sweeper',
    ]);
    // the function code is the bundle, staged as an asset of the assembly
    const assets = JSON.parse(readFileSync(join(out, 'EventHooks.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    const codeAssets = Object.values(assets.files).filter((f) => f.source.packaging === 'zip');
    expect(codeAssets.length).toBeGreaterThan(0);
    for (const asset of codeAssets) expect(existsSync(join(out, asset.source.path, 'index.mjs'))).toBe(true);
  }, 180_000);
});
