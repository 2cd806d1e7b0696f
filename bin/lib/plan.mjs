// The plan of `apply`, `diff` and `import`: what writing a list of hooks would change, and writing it.
//
// Validation is the service's own: each hook of the list is sent as `PUT /event-hooks/{id}?dry_run=true`,
// which runs every check the real PUT runs (the tenant's catalog with its own sources, user code
// that must compile, the outbound destination policy) and answers the hook that would be stored,
// defaults filled in. So the whole list is validated before anything is written, a refusal is the
// exact error the write would get, and the plan compares what would be stored with what is: a field
// the file leaves out is no change when the service would fill in the same default.

import { ServiceError } from './client.mjs';
import { changeJson, describeChange, fieldDiff, withoutReadOnly } from './hooksFile.mjs';

/** A hook of the list that the service refused; nothing was written. */
export class RefusedHookError extends ServiceError {
  /** @param {ServiceError} cause @param {number} index @param {string} id */
  constructor(cause, index, id) {
    super(cause.status, cause.message, cause.fields);
    this.index = index;
    this.id = id;
  }
}

const path = (id) => `/event-hooks/${encodeURIComponent(id)}`;

/** What is compared: what a client controls, never the service's read-only fields or rotation state. */
function comparable(hook) {
  const copy = withoutReadOnly(hook);
  if (copy.config && typeof copy.config === 'object') delete copy.config.previous_secret;
  return copy;
}

/**
 * The hook to send: when the file leaves `config.secret` out (no key at all) and the stored hook of
 * the same handler and signing scheme has one, the stored secret is kept. Otherwise a replacing PUT
 * would clear it, or, for Standard Webhooks, generate a new one on every apply. `secret: null` in
 * the file still removes it.
 */
function withKeptSecret(hook, existing) {
  const config = hook.config;
  const stored = existing?.config;
  if (!config || typeof config !== 'object' || Array.isArray(config) || Object.hasOwn(config, 'secret')) return hook;
  if (!stored || typeof stored.secret !== 'string' || existing.handler !== hook.handler) return hook;
  if ((config.signing ?? 'kong') !== (stored.signing ?? 'kong')) return hook;
  return { ...hook, config: { ...config, secret: stored.secret } };
}

/**
 * The plan for a list of hooks (secrets already resolved): one step per hook of the list in its
 * order (`create`, `update` with its field changes, `unchanged`), then one per hook the service has
 * and the list does not (`delete` with `prune`, else `keep`).
 * @param {ReturnType<import('./client.mjs').client>} api
 * @param {Record<string, unknown>[]} hooks
 * @param {{ prune?: boolean }} options
 */
export async function makePlan(api, hooks, { prune = false } = {}) {
  const current = new Map((await api.all('/event-hooks')).map((hook) => [hook.id, hook]));
  const steps = [];
  for (const [i, given] of hooks.entries()) {
    const hook = withKeptSecret(given, current.get(given.id.toLowerCase()));
    let wouldStore;
    try {
      ({ body: wouldStore } = await api.request('PUT', `${path(hook.id)}?dry_run=true`, hook));
    } catch (error) {
      if (error instanceof ServiceError && error.status >= 400 && error.status < 500)
        throw new RefusedHookError(error, i, hook.id);
      throw error;
    }
    const id = wouldStore.id;
    const existing = current.get(id);
    current.delete(id);
    const label = `${wouldStore.source}/${wouldStore.event ?? '*'} ${wouldStore.handler}`;
    if (!existing) {
      steps.push({ action: 'create', id, label, body: hook });
      continue;
    }
    const changes = fieldDiff(comparable(existing), comparable(wouldStore));
    steps.push({ action: changes.length > 0 ? 'update' : 'unchanged', id, label, body: hook, changes });
  }
  for (const [id, hook] of current) {
    steps.push({ action: prune ? 'delete' : 'keep', id, label: `${hook.source}/${hook.event ?? '*'} ${hook.handler}` });
  }
  return steps;
}

/** Whether writing the plan would change anything. */
export const changesAnything = (steps) => steps.some((s) => s.action !== 'unchanged' && s.action !== 'keep');

const SIGN = { create: '+', update: '~', unchanged: '=', delete: '-', keep: '?' };
const WORD = { create: 'create', update: 'update', unchanged: 'unchanged', delete: 'delete', keep: 'not in the file' };

function counts(steps) {
  const n = (action) => steps.filter((s) => s.action === action).length;
  return { create: n('create'), update: n('update'), unchanged: n('unchanged'), delete: n('delete'), keep: n('keep') };
}

/** The plan for a person: one line per hook, the changed fields under an update, then the totals. */
export function planText(steps, { applied = false } = {}) {
  const lines = [];
  for (const step of steps) {
    const word = applied
      ? { ...WORD, create: 'created', update: 'updated', delete: 'deleted' }[step.action]
      : WORD[step.action];
    lines.push(`${SIGN[step.action]} ${word} ${step.id}  ${step.label}`);
    for (const change of step.changes ?? []) lines.push(`    ${describeChange(change)}`);
  }
  const c = counts(steps);
  if (!changesAnything(steps)) {
    lines.push(`no changes: ${c.unchanged} hook${c.unchanged === 1 ? '' : 's'} unchanged`);
  } else {
    const verb = applied ? ['created', 'updated', 'deleted'] : ['to create', 'to update', 'to delete'];
    lines.push(
      `${applied ? 'applied' : 'plan'}: ${c.create} ${verb[0]}, ${c.update} ${verb[1]}, ${c.unchanged} unchanged, ${c.delete} ${verb[2]}`,
    );
  }
  if (c.keep > 0)
    lines.push(
      `${c.keep} hook${c.keep === 1 ? '' : 's'} not in the file ${c.keep === 1 ? 'is' : 'are'} kept (--prune deletes them)`,
    );
  return `${lines.join('\n')}\n`;
}

/** The plan as machine output. */
export function planJson(steps, { applied = false } = {}) {
  return {
    applied,
    changed: changesAnything(steps),
    steps: steps.map(({ action, id, changes }) => ({
      action,
      id,
      ...(changes && changes.length > 0 ? { changes: changes.map(changeJson) } : {}),
    })),
  };
}

/**
 * Writes the plan: a PUT per created or updated hook, in the list's order, then a DELETE per pruned
 * one. A failure here (the service changed between the plan and the write) stops at that step.
 */
export async function executePlan(api, steps, done = () => {}) {
  for (const step of steps) {
    if (step.action === 'create' || step.action === 'update') await api.request('PUT', path(step.id), step.body);
    else if (step.action === 'delete') await api.request('DELETE', path(step.id));
    else continue;
    done(step);
  }
}
