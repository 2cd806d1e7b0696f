import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundleFunctionsSync, DEFAULT_ENTRIES, type FunctionName, PROJECT_ROOT } from '../bundle.ts';

export const FUNCTION_NAMES = Object.keys(DEFAULT_ENTRIES) as FunctionName[];

/** Memory (MB) and timeout of each service function unless the props say otherwise. */
export const FUNCTION_DEFAULTS: Record<FunctionName, { memorySize: number; timeout: Duration; description: string }> = {
  // HTTP API integrations time out at 30 s (user functions are deployed by the deployer, not here).
  admin: { memorySize: 512, timeout: Duration.seconds(29), description: 'event-hooks Admin API' },
  ingest: { memorySize: 256, timeout: Duration.seconds(10), description: 'event-hooks POST /events' },
  dispatcher: {
    memorySize: 512,
    timeout: Duration.seconds(30),
    description: 'event-hooks dispatcher (EventBridge rule target)',
  },
  delivery: { memorySize: 512, timeout: Duration.seconds(60), description: 'event-hooks delivery (SQS consumer)' },
  // One job creates up to 10 functions, two at a time, each awaited Active by the SDK's waiter (at most 60 s).
  deployer: {
    memorySize: 256,
    timeout: Duration.minutes(5),
    description: 'event-hooks deploy worker of user functions (SQS consumer)',
  },
  sweeper: {
    memorySize: 256,
    timeout: Duration.minutes(5),
    description: 'event-hooks sweeper of unused user functions (scheduled)',
  },
  // On every request of an api-keys deployment: small, and well within API Gateway's 10 s for an authorizer.
  authorizer: {
    memorySize: 256,
    timeout: Duration.seconds(5),
    description: 'event-hooks Lambda authorizer of the HTTP API (API keys)',
  },
};

/** Where the service functions' code comes from. */
export interface FunctionCodeProps {
  /**
   * Entry points, bundled with `infra/bundle.ts` while the construct is built. Default `DEFAULT_ENTRIES`
   * (`functions/<name>.ts`); a partial map overrides only the names it has.
   */
  entries?: Partial<Record<FunctionName, string>>;
  /**
   * A folder of bundles already built by `bundleFunctions` (`<bundleDir>/<name>/index.mjs`), as
   * `npm run build` and the CDK app produce. Takes precedence over `entries`.
   */
  bundleDir?: string;
}

/**
 * One `Code` per service function: the prebuilt bundles, or the entries bundled now with the same
 * esbuild settings into a temporary folder. Call `release` once the functions exist: assets are
 * copied into the cloud assembly as they are created, so the temporary bundles can then go (unless
 * staging is disabled, as under SAM, and the template points at them).
 */
export function serviceFunctionCode(
  scope: Construct,
  props: FunctionCodeProps,
): { code: Record<FunctionName, lambda.Code>; bundleDir: string; release: () => void } {
  let bundleDir = props.bundleDir === undefined ? undefined : resolve(PROJECT_ROOT, props.bundleDir);
  let release = () => {};
  if (bundleDir === undefined) {
    const temporary = mkdtempSync(join(tmpdir(), 'event-hooks-bundles-'));
    bundleDir = temporary;
    bundleFunctionsSync({ entries: { ...DEFAULT_ENTRIES, ...props.entries }, outDir: temporary, minify: true });
    if (!scope.node.tryGetContext('aws:cdk:disable-asset-staging')) {
      release = () => rmSync(temporary, { recursive: true, force: true });
    }
  }
  const code = {} as Record<FunctionName, lambda.Code>;
  for (const name of FUNCTION_NAMES) {
    const folder = join(bundleDir, name);
    if (!existsSync(join(folder, 'index.mjs'))) {
      release();
      throw new Error(`no bundle for the ${name} function at ${folder}/index.mjs: run \`npm run build\` first`);
    }
    code[name] = lambda.Code.fromAsset(folder);
  }
  return { code, bundleDir, release };
}

export interface ServiceFunctionProps {
  name: FunctionName;
  code: lambda.Code;
  functionName: string;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  memorySize?: number;
  timeout?: Duration;
  /** Concurrency kept for this function alone; none when undefined. */
  reservedConcurrentExecutions?: number;
  /** X-Ray tracing by Lambda itself; off when undefined. */
  tracing?: lambda.Tracing;
}

/**
 * One service function with the settings every one shares: Node.js 24 on arm64, the bundle's
 * `index.handler`, JSON logs into its own log group with a retention, a role of its own.
 */
export class ServiceFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  /** Its own role: writes to its own log group, plus whatever the construct grants it, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const defaults = FUNCTION_DEFAULTS[props.name];
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of the default one, whose managed policy may write to any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${defaults.description}: execution role`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: defaults.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      memorySize: props.memorySize ?? defaults.memorySize,
      timeout: props.timeout ?? defaults.timeout,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      environment: props.environment,
      role: this.role,
      ...(props.tracing ? { tracing: props.tracing } : {}),
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: this.logGroup,
    });
  }
}
