import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from '../shared/admin/http.ts';
import type { App } from '../shared/app.ts';
import { invocation } from './invocation.ts';

/** API Gateway HTTP API (v2) event → the core's request. */
export function toApiRequest(event: APIGatewayProxyEventV2): ApiRequest {
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers: event.headers ?? {},
    ...(body !== undefined ? { body } : {}),
  };
}

/** The core's response → what API Gateway sends back. */
export function toProxyResult(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}

/**
 * An HTTP API entry point: the v2 event becomes the core's request for one of the app's routers
 * (`admin` or `ingest`), and its answer the proxy result. The local runtime passes its own app.
 */
export function httpHandler(app: () => Promise<App>, router: (app: App) => App['admin']) {
  return invocation(async (event: APIGatewayProxyEventV2) =>
    toProxyResult(await router(await app())(toApiRequest(event))),
  );
}
