import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../infra/bundle.ts';
import { ContextSchema } from '../../../infra/cdk/contextSchema.ts';

describe('CDK context schema', () => {
  it('documents every context key it declares in docs/deploy.md', () => {
    const deploy = readFileSync(`${PROJECT_ROOT}/docs/deploy.md`, 'utf8');
    const undocumented = Object.keys(ContextSchema.properties).filter((key) => !deploy.includes(`\`${key}\``));
    expect(undocumented).toEqual([]);
  });
});
