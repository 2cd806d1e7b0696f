import type { EventHook } from '../hooks/hook.ts';
import { isSecretName } from '../logger.ts';
import type { SecretCipher } from '../ports/secretCipher.ts';

/**
 * Which values of a hook are secrets, and sealing or opening them all at once. The secrets are, in
 * the config of a hook of any handler, `secret`, the `previous_secret` a rotation keeps signing, and
 * the values of `headers` whose names say credential (`Authorization`, `X-Api-Key`, `Cookie`…: the
 * names the logs redact). Everything else (URL, templates, other headers) stays readable in the store.
 *
 * Decided by these fields, the rule the logs redact by, not by the handler (its definition's `signed`):
 * a handler added later is sealed without declaring anything, and every function that reads hooks
 * (the store seals and opens them) does so without bundling the handler registry.
 */
export interface HookSecrets {
  /** The hook as the store keeps it: each secret value sealed. */
  seal(tenant: string, hook: EventHook): Promise<EventHook>;
  /** The hook as a handler or an Admin API answer needs it: each sealed value opened. */
  open(tenant: string, hook: EventHook): Promise<EventHook>;
}

interface Slot {
  value: string;
  set(config: Record<string, unknown>, value: string): void;
}

/** The secret values of a hook's config, with where each goes back in a copy of it. */
function slots(hook: EventHook): Slot[] {
  const config = (hook.config ?? {}) as Record<string, unknown>;
  const found: Slot[] = [];
  if (typeof config.secret === 'string') {
    found.push({ value: config.secret, set: (c, value) => Object.assign(c, { secret: value }) });
  }
  const previous = config.previous_secret;
  if (isRecord(previous) && typeof previous.secret === 'string') {
    found.push({
      value: previous.secret,
      set: (c, value) => Object.assign(c, { previous_secret: { ...previous, secret: value } }),
    });
  }
  for (const [name, value] of Object.entries(isRecord(config.headers) ? config.headers : {})) {
    if (!isSecretName(name) || typeof value !== 'string') continue;
    found.push({
      value,
      set: (c, sealed) => {
        // Header names come from clients and may be `__proto__`: defined, never assigned through a prototype.
        Object.defineProperty(c.headers, name, { value: sealed, enumerable: true, writable: true, configurable: true });
      },
    });
  }
  return found;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function transform(hook: EventHook, apply: (values: string[]) => Promise<string[]>): Promise<EventHook> {
  const found = slots(hook);
  if (found.length === 0) return hook;
  const results = await apply(found.map((slot) => slot.value));
  const config = { ...hook.config } as Record<string, unknown>;
  if (config.headers) config.headers = { ...(config.headers as Record<string, string>) };
  for (const [i, slot] of found.entries()) slot.set(config, results[i] as string);
  return { ...hook, config } as EventHook;
}

/**
 * @example
 * const secrets = createHookSecrets(createLocalSecretCipher({ keyFile: '.data/secrets.key' }));
 * const stored = await secrets.seal('default', hook); // config.secret: 'enc:v1:…'
 */
export function createHookSecrets(cipher: SecretCipher): HookSecrets {
  return {
    seal: (tenant, hook) => transform(hook, (values) => cipher.seal(values, { tenant, hookId: hook.id })),
    open: (tenant, hook) => transform(hook, (values) => cipher.open(values, { tenant, hookId: hook.id })),
  };
}

/**
 * Opens hooks for the delivery worker. The hook cache hands out the same object until the hook
 * changes, so each version of a hook is opened once (the same opened object comes back, and the
 * worker's handler built from it is reused as before); a failure is not kept.
 */
export function hookOpener(secrets: HookSecrets): (tenant: string, hook: EventHook) => Promise<EventHook> {
  const opened = new WeakMap<EventHook, Promise<EventHook>>();
  return (tenant, sealed) => {
    let hook = opened.get(sealed);
    if (!hook) {
      hook = secrets.open(tenant, sealed);
      opened.set(sealed, hook);
      hook.catch(() => opened.delete(sealed));
    }
    return hook;
  };
}
