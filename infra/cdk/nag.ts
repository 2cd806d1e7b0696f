import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag (v3) findings this design accepts, each acknowledged on the one construct it concerns,
 * with the reason. cdk-nag v3 replaced `NagSuppressions` with CDK's `Validations.of().acknowledge()`,
 * and wants every finding of a rule acknowledged by its own id.
 */
export interface AcknowledgedFindings {
  /** The queue EventBridge and Lambda dead-letter into, which cdk-nag does not see as a DLQ. */
  eventsDeadLetterQueue: IConstruct;
  /** Roles allowed to invoke (admin, delivery) or manage (admin) the user-code functions. */
  userFunctionRoles: IConstruct[];
  /** The ARN pattern of user-code functions, as cdk-nag prints it. */
  userFunctionArnPattern: string;
  /** Roles granted `lambda:InvokeFunction` on `invokableFunctionArns`. */
  invokerRoles: IConstruct[];
  invokableFunctionArns: string[];
  /** Routes deployed without auth: `/health` always, others because the props asked for it. */
  openRoutes: IConstruct[];
  /** Roles of functions with X-Ray active tracing, which Lambda lets write trace segments. */
  tracedRoles: IConstruct[];
}

export function acknowledgeFindings(findings: AcknowledgedFindings): void {
  Validations.of(findings.eventsDeadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue: of the EventBridge rule target and of the dispatcher’s failed async invocations.',
  });
  for (const role of findings.userFunctionRoles) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${findings.userFunctionArnPattern}]`,
      reason:
        'User-code functions are created at run time, one per code string of a lambda hook, so their names are not known at deploy time. ' +
        'The pattern is the narrowest one: this deployment’s prefix, exactly 16 hash characters, an index; the service’s own functions never match it.',
    });
  }
  for (const arn of findings.invokableFunctionArns.filter((a) => a.includes('*'))) {
    for (const role of findings.invokerRoles) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason: 'The deployer listed this pattern in invokableFunctionArns: functions lambda hooks may name.',
      });
    }
  }
  for (const role of findings.tracedRoles) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing (the tracing prop): xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions.',
    });
  }
  for (const route of findings.openRoutes) {
    Validations.of(route).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        "Open by design (GET /health, which reads nothing of any tenant; the console's static files with API keys, whose API calls carry the key) or by the deployment props (authMode none, adminIamAuth / ingestIamAuth false).",
    });
  }
}
