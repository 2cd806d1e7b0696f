import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AwsAuthMode, httpHandler, principalOf } from '../../functions/http.ts';
import { type ApiRequest, json } from '../../shared/admin/http.ts';
import type { App } from '../../shared/compositionRoot.ts';

function event(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; authorizer?: unknown; body?: string } = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: options.headers ?? {},
    isBase64Encoded: false,
    ...(options.body ? { body: options.body } : {}),
    requestContext: {
      http: { method, path },
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    },
  } as unknown as APIGatewayProxyEventV2;
}

/** A router that answers with the principal it was given, so the test sees what the core would. */
function handler(authMode?: AwsAuthMode) {
  const echo = async (request: ApiRequest) => json(200, { principal: request.principal ?? null });
  const app = { config: { tenant: 'default' }, admin: echo, ingest: echo } as unknown as App;
  const h = httpHandler(
    () => Promise.resolve(app),
    (a) => a.admin,
    authMode ? { authMode } : {},
  );
  return async (e: APIGatewayProxyEventV2) => {
    const result = await h(e, { awsRequestId: 'r', functionName: 'f' } as Context);
    return { status: result.statusCode, body: JSON.parse(String(result.body)) as Record<string, unknown> };
  };
}

const acme = { lambda: { authenticated: 'true', tenant: 'acme', scopes: 'read', keyId: 'k1' } };
/** What the authorizer passes for a missing, unknown or revoked key (lambdaAuthorizer.ts). */
const nobody = { lambda: { authenticated: 'false', tenant: '', scopes: '', keyId: '' } };

describe('principalOf', () => {
  it('reads the tenant from the Lambda authorizer context and nothing the client sent', () => {
    const forged = event('POST', '/event-hooks', {
      headers: { 'x-tenant': 'beta', authorization: 'Bearer beta-key' },
      body: JSON.stringify({ tenant: 'beta' }),
      authorizer: acme,
    });
    expect(principalOf(forged, { tenant: 'default' })).toEqual({ tenant: 'acme', scopes: ['read'], keyId: 'k1' });
    expect(
      principalOf(event('GET', '/event-hooks', { headers: { authorization: 'Bearer k' } }), { tenant: 'default' }),
    ).toBeUndefined();
  });

  it('makes an IAM caller the operator; the full admin of the one tenant only on an iam deployment', () => {
    const signed = event('GET', '/tenants', { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/op' } } });
    expect(principalOf(signed, { tenant: 'default', authMode: 'api-keys' })).toEqual({
      tenant: 'default',
      scopes: [],
      operator: true,
    });
    expect(principalOf(signed, { tenant: 'default', authMode: 'iam' })).toEqual({
      tenant: 'default',
      scopes: ['admin', 'ingest', 'read'],
      operator: true,
    });
  });
});

describe('httpHandler on an api-keys deployment', () => {
  const call = handler('api-keys');

  it('hands the router the principal of the authorizer context', async () => {
    const { status, body } = await call(event('GET', '/event-hooks', { authorizer: acme }));
    expect(status).toBe(200);
    expect(body.principal).toEqual({ tenant: 'acme', scopes: ['read'], keyId: 'k1' });
  });

  it('answers 403 in Kong’s shape when the key lacks the route’s scope', async () => {
    for (const e of [
      event('POST', '/event-hooks', { authorizer: acme }),
      event('GET', '/event-hooks/abc/ping', { authorizer: acme }),
      event('POST', '/events', { authorizer: acme }),
      event('GET', '/tenants', {
        authorizer: { lambda: { authenticated: 'true', tenant: 'acme', scopes: 'admin', keyId: 'k' } },
      }),
    ]) {
      const { status, body } = await call(e);
      expect(status).toBe(403);
      expect(Object.keys(body)).toEqual(['message']);
      expect(typeof body.message).toBe('string');
    }
  });

  it('answers 401 when a guarded route arrives without a principal, and serves public routes', async () => {
    expect(await call(event('GET', '/event-hooks', { headers: { 'kong-admin-token': 'x' } }))).toEqual({
      status: 401,
      body: { message: 'Unauthorized' },
    });
    expect((await call(event('GET', '/health'))).status).toBe(200);
  });

  it('lets the IAM-signed operator call operator routes but no tenant route', async () => {
    const iam = { iam: { userArn: 'arn:aws:iam::1:user/op' } };
    expect((await call(event('POST', '/tenants', { authorizer: iam }))).status).toBe(200);
    expect((await call(event('GET', '/event-hooks', { authorizer: iam }))).status).toBe(403);
  });
});

describe('httpHandler behind the key authorizer, for a request it marked unauthenticated', () => {
  it('answers 401 in Kong’s shape on every guarded route, whatever the client claims', async () => {
    const call = handler('api-keys');
    for (const e of [
      event('GET', '/event-hooks', { authorizer: nobody }),
      event('POST', '/events', { authorizer: nobody, headers: { 'x-tenant': 'acme' }, body: '{"tenant":"acme"}' }),
      event('GET', '/audit', { authorizer: nobody, headers: { authorization: 'Bearer revoked' } }),
    ]) {
      expect(await call(e)).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    }
    expect((await call(event('GET', '/health', { authorizer: nobody }))).status).toBe(200);
  });

  it('fails closed when AUTH_MODE is missing or wrong: the authorizer’s context alone means api-keys', async () => {
    for (const mode of [undefined, 'iam', 'none'] as const) {
      expect((await handler(mode)(event('DELETE', '/event-hooks/x', { authorizer: nobody }))).status).toBe(401);
      const { status, body } = await handler(mode)(event('POST', '/event-hooks', { authorizer: acme }));
      expect(status).toBe(403);
      expect(body.principal).toBeUndefined();
    }
  });
});

describe('httpHandler without api-keys', () => {
  it('checks nothing itself: API Gateway’s IAM auth, or the local edge, decided', async () => {
    for (const mode of [undefined, 'iam', 'none'] as const) {
      const { status, body } = await handler(mode)(event('POST', '/event-hooks'));
      expect(status).toBe(200);
      expect(body.principal).toBeNull();
    }
  });
});
