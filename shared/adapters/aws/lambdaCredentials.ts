/**
 * Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles (an esbuild alias in
 * infra/bundle.ts). Lambda hands every function its role's credentials in environment variables,
 * so the SDK's full chain (SSO, profiles, STS, instance metadata: about 90 KB minified) is dead
 * weight there. Elsewhere, the real chain is used.
 */
interface LambdaCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

class MissingCredentialsError extends Error {
  override readonly name = 'CredentialsProviderError';
}

/** The SDK calls this once per client to get its credentials provider. */
export function defaultProvider(): () => Promise<LambdaCredentials> {
  return async () => {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
    if (!accessKeyId || !secretAccessKey) {
      throw new MissingCredentialsError(
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: this bundle only runs in AWS Lambda',
      );
    }
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  };
}
