import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { errorResponse } from '../shared/admin/http.ts';
import { type ConsoleAssets, consoleResponse } from '../shared/console/consoleSite.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * `/console` as an API Gateway (v2) handler: the admin function answers it on AWS with the files its
 * bundle carries, the local runtime with the files it built on first use. The files are the same
 * for every tenant and hold no data, so the route needs no credentials; the console asks the API
 * for a key when the API wants one.
 */
export function consoleHandler(assets: () => Promise<ConsoleAssets>, logger: Logger) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const response = await consoleResponse(event.requestContext.http.method, event.rawPath, assets);
      return {
        statusCode: response.statusCode,
        headers: response.headers,
        body: response.body.toString('base64'),
        isBase64Encoded: true,
      };
    } catch (error) {
      const answer = errorResponse(error, logger);
      return { statusCode: answer.statusCode, headers: answer.headers, body: answer.body };
    }
  };
}
