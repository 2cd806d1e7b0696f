import { HookService } from '../admin/hookService.ts';
import { createHookWriteEffects } from '../admin/hookWriteEffects.ts';
import type { ApiRequest, ApiResponse } from '../admin/http.ts';
import { createAdminRouter } from '../admin/router.ts';
import type { TenantAdmin } from '../admin/tenantRoutes.ts';
import { ApiKeyStore } from '../auth/apiKeys.ts';
import { ConfigError } from '../config.ts';
import { userCodeSyntaxError } from '../hooks/userCode.ts';
import { createDeadLetters } from '../pipeline/deadLetters.ts';
import { createDeliveries } from '../pipeline/deliveries.ts';
import type { FunctionDeployer } from '../pipeline/functionDeployer.ts';
import { createHookRunner } from '../pipeline/hookRunner.ts';
import type { FunctionDeployQueue } from '../ports/functionDeployQueue.ts';
import { createHookUsageGuard } from '../quotas/hookQuota.ts';
import { AuditStore } from '../store/auditStore.ts';
import { deleteTenantItems, TenantStore } from '../store/tenantStore.ts';
import type { Core } from './core.ts';

/** The Admin API's surface: hooks, sources, dead letters, deliveries, tenants and keys, audit, usage. */
export interface AdminSurface {
  readonly service: HookService;
  /** Tenant API keys; also the `ApiKeyResolver` the edge authenticates with (docs/saas.md). */
  readonly apiKeys: ApiKeyStore;
  readonly tenants: TenantStore;
  /** Every change through the Admin API, per tenant, served by `/audit`. */
  readonly audit: AuditStore;
  /** Removes a tenant with everything it owns: keys, hooks and their user functions, sources, dead letters, idempotency records, gate windows. */
  deleteTenant(id: string): Promise<void>;
  /** The Admin API. */
  admin(request: ApiRequest): Promise<ApiResponse>;
  /** Resolves when background work started by admin writes (pings) has finished. */
  settled(): Promise<void>;
}

export interface AdminSurfaceOptions {
  /**
   * Runs deploy jobs where no deploy queue is configured (`ports.deployments`): locally, each job at
   * once inside the request. A function with a deploy queue (the admin function on AWS) needs none.
   */
  deployFunctions?: FunctionDeployer;
}

class NoDeployerError extends ConfigError {}

export function createAdminSurface(core: Core, options: AdminSurfaceOptions = {}): AdminSurface {
  const { client, config, clock, logger, ports, cache, hooks, meter } = core;
  const tableName = config.tableName;
  const run: FunctionDeployer =
    options.deployFunctions ??
    (() =>
      Promise.reject(new NoDeployerError('this function has no deployer: its deploy jobs go to the deploy queue')));
  const deployQueue: FunctionDeployQueue = (ports.deployments ?? ((deploy) => ({ send: (job) => deploy(job) })))(run);
  const writeEffects = createHookWriteEffects({
    functions: ports.functions,
    deployQueue,
    invalidate: (tenant) => cache.invalidate(tenant),
    bus: core.bus,
    handlerDeps: core.handlerDeps,
    awaitPing: config.runtime === 'aws',
    logger,
  });
  const usageGuard = createHookUsageGuard({ quotas: core.quotas });
  const service = new HookService({
    hooks,
    sources: core.sources,
    clock,
    secrets: core.secrets,
    userCodeSyntaxError,
    reservedFunctionPrefix: config.userFunctionPrefix,
    destinationRefusal: (url) => ports.http.destinations.urlRefusal(url)?.message,
    verifyWrite: writeEffects.verifyWrite,
    beforeWrite: writeEffects.beforeWrite,
    afterWrite: writeEffects.afterWrite,
    usageGuard,
    afterCatalogWrite: (tenant) => cache.invalidate(tenant),
  });
  const apiKeys = new ApiKeyStore({ client, tableName, clock });
  const tenants = new TenantStore({ client, tableName, clock });
  const deleteTenant = async (tenant: string) => {
    // Keys first, so nothing new arrives for it; the tenant's own item last, so that a deletion cut
    // short (a table too large to scan in one request) can be sent again.
    await apiKeys.deleteAll(tenant);
    const counted = await usageGuard(tenant);
    for (const hook of await hooks.listAll(tenant)) {
      await hooks.delete(tenant, hook.id, counted);
      await writeEffects.removeFunctions(tenant, hook);
    }
    // Before its usage items go, so that no flush (this one, or one under way) writes them back.
    meter.forget(tenant);
    await meter.flush();
    const items = await deleteTenantItems(client, tableName, tenant);
    // The local runtime keeps event and delivery records in files of their own, which the table's deletion misses.
    await core.events.deleteTenant?.(tenant);
    await core.deliveryLog?.deleteTenant?.(tenant);
    cache.invalidate(tenant);
    core.forgetTenant(tenant);
    await tenants.delete(tenant);
    logger.info('tenant deleted', { tenant, items });
  };
  const tenantAdmin: TenantAdmin = {
    tenants,
    keys: apiKeys,
    deleteTenant,
    ...(config.tenancy === 'single' ? { single: config.tenant } : {}),
  };
  const audit = new AuditStore({ client, tableName, retentionDays: config.auditRetentionDays, clock });
  // Replays count against the tenant's events per second, as posted events do (docs/saas.md § Quotas).
  const admitReplays = (tenant: string, count: number) => core.ingestQuota.admitEvents(tenant, count);
  const admin = createAdminRouter({
    service,
    logger,
    tenant: config.tenant,
    runner: createHookRunner(core.handlerDeps),
    deadLetters: createDeadLetters({
      store: core.deadLetters,
      queue: core.queue,
      clock,
      admit: admitReplays,
      ...(core.deliveryLog ? { log: core.deliveryLog } : {}),
    }),
    ...(core.deliveryLog
      ? {
          deliveries: createDeliveries({
            log: core.deliveryLog,
            queue: core.queue,
            clock,
            deadLetters: core.deadLetters,
            admit: admitReplays,
          }),
        }
      : {}),
    // The operator routes exist only where someone can be the operator.
    ...(config.authMode === 'none' ? {} : { tenants: tenantAdmin }),
    events: core.events,
    audit,
    quotas: core.quotas,
    usage: core.usage,
  });
  return { service, apiKeys, tenants, audit, deleteTenant, admin, settled: () => writeEffects.settled() };
}
