import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctionsSync } from '../../../infra/bundle.ts';
import { serviceFunctionCode } from '../../../infra/cdk/functions.ts';
import { FIXTURE_ENTRIES, findOne, synth } from './synth.ts';

const NAMES = ['admin', 'ingest', 'dispatcher', 'delivery', 'deployer', 'sweeper'] as const;
const scratch = mkdtempSync(join(tmpdir(), 'functions-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('service functions', () => {
  const { json } = synth();

  it('run the bundle on Node.js 24, arm64, with JSON logs into their own log group', () => {
    for (const name of NAMES) {
      const [, fn] = findOne(json, 'AWS::Lambda::Function', { FunctionName: `event-hooks-${name}` });
      const [logGroupId, logGroup] = findOne(json, 'AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/event-hooks-${name}`,
      });
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logGroupId } },
      });
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
  });

  it('have the default memory sizes and timeouts, the admin one under the HTTP API’s 30 s', () => {
    const settings = NAMES.map((name) => {
      const [, fn] = findOne(json, 'AWS::Lambda::Function', { FunctionName: `event-hooks-${name}` });
      return [name, fn.Properties.MemorySize, fn.Properties.Timeout];
    });
    expect(settings).toEqual([
      ['admin', 512, 29],
      ['ingest', 256, 10],
      ['dispatcher', 512, 30],
      ['delivery', 512, 60],
      ['deployer', 256, 300],
      ['sweeper', 256, 300],
    ]);
  });

  it('take memory sizes, timeouts and log retention from the props', () => {
    const custom = synth({
      memorySizes: { delivery: 1024 },
      timeouts: { ingest: Duration.seconds(5) },
      logRetention: RetentionDays.ONE_WEEK,
    });
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'event-hooks-delivery',
      MemorySize: 1024,
    });
    custom.template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'event-hooks-ingest', Timeout: 5 });
    custom.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/event-hooks-admin',
      RetentionInDays: 7,
    });
  });
});

describe('serviceFunctionCode', () => {
  it('uses bundles built beforehand by bundleFunctions', () => {
    // Prepare
    const outDir = join(scratch, 'prebuilt');
    bundleFunctionsSync({ entries: FIXTURE_ENTRIES, outDir });
    const stack = new Stack(new App(), 'S');

    // Act
    const { code } = serviceFunctionCode(stack, { bundleDir: outDir });

    // Assess
    expect(Object.keys(code).sort()).toEqual([...NAMES, 'authorizer'].sort());
  });

  it('bundles the entries into a temporary folder that is gone once the assets are staged', () => {
    // Prepare
    const app = new App({ outdir: join(scratch, 'assembly') });
    const stack = new Stack(app, 'S');

    // Act
    const { code, bundleDir, release } = serviceFunctionCode(stack, { entries: FIXTURE_ENTRIES });
    const config = code.admin.bind(stack);
    const staged = existsSync(join(scratch, 'assembly', `asset.${config.s3Location?.objectKey.replace(/\.zip$/, '')}`));
    release();

    // Assess
    expect(staged).toBe(true);
    expect(bundleDir.startsWith(tmpdir())).toBe(true);
    expect(existsSync(bundleDir)).toBe(false);
  });

  it('says to build first when a prebuilt bundle is missing', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => serviceFunctionCode(stack, { bundleDir: join(scratch, 'empty') })).toThrow(/npm run build/);
  });
});
