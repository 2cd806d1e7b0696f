import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from '../shared/admin/http.ts';

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
