import type { ApiRequest, ApiResponse } from '../admin/http.ts';
import { createIngest } from '../pipeline/ingest.ts';
import { KONG_HTTP_LOG_PATH, kongHttpLogEvents } from '../pipeline/kongHttpLog.ts';
import { IdempotencyStore } from '../store/idempotencyStore.ts';
import type { Core } from './core.ts';

/** The ingest surface: `POST /events`, and `POST /ingest/kong-http-log` (Kong's http-log entries, turned into events). */
export interface IngestSurface {
  ingest(request: ApiRequest): Promise<ApiResponse>;
}

export function createIngestSurface(core: Core): IngestSurface {
  const { client, config, clock, cache } = core;
  const ingestOptions = {
    bus: core.bus,
    catalog: (tenant: string) => cache.catalog(tenant),
    logger: core.logger,
    ...core.metrics,
    tenant: config.tenant,
    maxEventBytes: config.maxEventBytes,
    idempotency: new IdempotencyStore({ client, tableName: config.tableName, clock }),
    quota: core.ingestQuota,
    meter: core.meter,
  };
  const ingestEvents = createIngest(ingestOptions);
  const ingestKongHttpLog = createIngest({ ...ingestOptions, toEvents: kongHttpLogEvents });
  // One entry point for both routes, so that one function (and one set of limits) serves them on AWS.
  const ingest = (request: ApiRequest) =>
    request.path.replace(/\/+$/, '') === KONG_HTTP_LOG_PATH ? ingestKongHttpLog(request) : ingestEvents(request);
  return { ingest };
}
