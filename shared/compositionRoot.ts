import { createLocalSecretCipher } from './adapters/local/secretCipher.ts';
import { type AdminSurface, createAdminSurface } from './composition/adminSurface.ts';
import { type AppOptions, type Core, createCore } from './composition/core.ts';
import { createDeliverySurface, type DeliverySurface } from './composition/deliverySurface.ts';
import { createDeploySurface, type DeploySurface } from './composition/deploySurface.ts';
import { createDispatchSurface, type DispatchSurface } from './composition/dispatchSurface.ts';
import { createIngestSurface, type IngestSurface } from './composition/ingestSurface.ts';

export { type AppOptions, type AppPorts, type Core, deliveryLogSettings } from './composition/core.ts';

/**
 * The whole service in one process: the shared core and every surface (Admin API, ingest, dispatcher,
 * delivery worker, deploy worker). The local runtime and the tests use it; each Lambda function
 * builds the core with its own surface only (functions/*.ts), so that its bundle carries no other.
 */
export interface App extends Core, AdminSurface, IngestSurface, DispatchSurface, DeliverySurface, DeploySurface {}

/** The composition root: one core wired to whichever adapters the runtime provides. */
export function createApp(options: AppOptions): App {
  const core = createCore({
    ...options,
    ports: { ...options.ports, secrets: options.ports.secrets ?? createLocalSecretCipher() },
  });
  const deploy = createDeploySurface(core);
  return {
    ...core,
    ...createAdminSurface(core, { deployFunctions: deploy.deployFunctions }),
    ...createIngestSurface(core),
    ...createDispatchSurface(core),
    ...createDeliverySurface(core),
    ...deploy,
  };
}
