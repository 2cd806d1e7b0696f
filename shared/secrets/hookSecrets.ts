import type { EventHook } from '../hooks/hook.ts';
import { hasUrlCredentials, isSecretName } from '../logger.ts';
import { isSealed, type SecretCipher } from '../ports/secretCipher.ts';
import { setOwn } from '../records.ts';

/**
 * Which values of a hook are secrets, and sealing or opening them all at once. The rule is the one
 * the read scope, change events and logs mask by (`redactConfig` in shared/logger.ts), so nothing
 * the service would mask stays readable in the store: in a hook's config, every string under a key
 * `isSecretName` matches, at any depth (`secret`, `previous_secret.secret`, `headers.Authorization`,
 * `payload.token`…), and the whole `url` when `redactUrl` would mask part of it (a password,
 * `?token=…`). Everything else (other headers and payload entries, templates, a plain URL) stays
 * readable in the store. A URL is sealed whole so that opening gives it back byte for byte.
 *
 * Decided by these fields, not by the handler (its definition's `signed`): a handler added later is
 * sealed without declaring anything, and every function that reads hooks (the store seals and opens
 * them) does so without bundling the handler registry.
 */
export interface HookSecrets {
  /** The hook as the store keeps it: each secret value sealed. */
  seal(tenant: string, hook: EventHook): Promise<EventHook>;
  /** The hook as a handler or an Admin API answer needs it: each sealed value opened. */
  open(tenant: string, hook: EventHook): Promise<EventHook>;
}

type Path = readonly (string | number)[];

/** A secret value of a hook's config, and where it is. */
interface Slot {
  path: Path;
  value: string;
}

/**
 * The secret values of a hook's config. Sealed and opened hooks have the same slots in the same
 * order: a secret-named key keeps its name, and a sealed URL is still a slot (`isSealed`). A URL a
 * client sent looking sealed is a slot too, so it is sealed as text and never opened as given.
 */
function slots(hook: EventHook): Slot[] {
  const config = (hook.config ?? {}) as Record<string, unknown>;
  const found: Slot[] = [];
  const url = config.url;
  if (typeof url === 'string' && (hasUrlCredentials(url) || isSealed(url))) found.push({ path: ['url'], value: url });
  // Depth-first without recursion: a config is bounded by its schema, but a walk should not be by the stack.
  const pending: { value: unknown; path: Path; secret: boolean }[] = [{ value: config, path: [], secret: false }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path, secret } = next;
    if (typeof value === 'string') {
      if (secret && path.length > 0) found.push({ path, value });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) pending.push({ value: item, path: [...path, i], secret });
    } else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) {
        pending.push({ value: item, path: [...path, key], secret: secret || isSecretName(key) });
      }
    }
  }
  return found;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Puts `value` at `path` in `config`, copying each object or array on the way once (`copied`), so
 * the hook given is never changed. Keys come from clients and may be `__proto__`: defined, never
 * assigned through a prototype.
 */
function setAt(config: Record<string, unknown>, path: Path, value: string, copied: Set<unknown>): void {
  let parent: Record<string, unknown> | unknown[] = config;
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    let child: unknown = last ? value : (parent as Record<string, unknown>)[key as string];
    if (!last && !copied.has(child)) {
      child = Array.isArray(child) ? [...child] : { ...(child as Record<string, unknown>) };
      copied.add(child);
    }
    if (Array.isArray(parent)) parent[key as number] = child;
    else setOwn(parent, String(key), child);
    if (!last) parent = child as Record<string, unknown> | unknown[];
  }
}

async function transform(hook: EventHook, apply: (values: string[]) => Promise<string[]>): Promise<EventHook> {
  const found = slots(hook);
  if (found.length === 0) return hook;
  const results = await apply(found.map((slot) => slot.value));
  const config = { ...hook.config } as Record<string, unknown>;
  const copied = new Set<unknown>();
  for (const [i, slot] of found.entries()) setAt(config, slot.path, results[i] as string, copied);
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
