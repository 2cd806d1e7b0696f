// Child process that runs the user code of ONE `lambda` hook function (see functionRunner.ts).
// Plain JavaScript so that a bare `node` can start it without the service's TypeScript loader.
//
// Protocol over the IPC channel, one request at a time:
//   child → parent  { type: 'ready' }                                 once booted
//   parent → child  { type: 'load', code }                            compile and run the body once
//   child → parent  { type: 'loaded' } | { type: 'failed', message }
//   parent → child  { type: 'call', id, args: { data, event, source, pid, context } }
//   child → parent  { type: 'result', id, json, dirty } | { type: 'failed', id, message, dirty }
//   child → parent  { type: 'fatal', message }                        an error escaped the user code; exiting
// `dirty`: the call left something running that this process could not stop; the parent kills it.
//
// The user code runs in this process's global scope, not in this module's scope, so it cannot
// reach the bindings below (the captured `send`, timers and resource check in particular).
//
// The guards below are the inner wall of the sandbox (docs/user-code.md, "The sandbox"). The outer
// one, where the platform gives it, is the namespaces the process is started in: no network
// interface, and no other process of the machine visible. On their own, JS-level guards can be
// escaped by a bug in Node or V8; with the namespaces they are a second line.

import dgram from 'node:dgram';
import dns from 'node:dns';
import module from 'node:module';
import net from 'node:net';
import os from 'node:os';
import timers from 'node:timers';

const MAX_MESSAGE_CHARS = 2_000;
const MAX_RESULT_BYTES = 6 * 1024 * 1024;

const send = process.send.bind(process);
const activeResources = process.getActiveResourcesInfo.bind(process);
const AsyncFunction = (async () => {}).constructor;
const { network = 'none', allowLoopback = false } = JSON.parse(process.argv[2] ?? '{}');

// Whatever a launcher (a shell) put into the environment is not the user's business either.
for (const key of Object.keys(process.env)) delete process.env[key];

// A plain function, so that `new` of a refused class throws this error too, not "not a constructor".
const refuse = (what) =>
  function refused() {
    throw new Error(`${what} is not allowed in event hook functions`);
  };

function lock(target, name, value) {
  try {
    Object.defineProperty(target, name, { value, writable: false, configurable: false });
  } catch {
    // A property that cannot be redefined is left as the runtime made it (none of those below).
  }
}

// Node's permission model does not cover signals, priorities or native addons: user code may not
// signal or renice the service (its parent), other hooks' workers or any other process, nor load
// native code or reach the runtime's internal bindings.
for (const name of [
  'kill',
  '_kill',
  // SIGUSR1 to any pid (the service's too): Node opens an inspector on 127.0.0.1:9229 in the target.
  '_debugProcess',
  '_debugEnd',
  'dlopen',
  'binding',
  '_linkedBinding',
  'setuid',
  'setgid',
  'seteuid',
  'setegid',
  'setgroups',
  'initgroups',
]) {
  if (name in process) lock(process, name, refuse(`process.${name}`));
}
lock(os, 'setPriority', refuse('os.setPriority'));

/** Replaces every export of a built-in module, so `import`, `require` and `getBuiltinModule` all get the refusal. */
function closeModule(name) {
  let exports;
  try {
    exports = process.getBuiltinModule(name);
  } catch {
    return;
  }
  for (const key of Object.keys(exports)) {
    if (key === 'default') continue;
    lock(exports, key, refuse(`the '${name}' module`));
  }
}

// The runtime makes stdio's sockets on first use from the `net` module's exports, closed below.
void process.stdout;
void process.stderr;

// Processes and threads: the permission model refuses these too; closed here for runtimes without it.
for (const name of ['child_process', 'worker_threads', 'cluster', 'inspector', 'inspector/promises']) {
  closeModule(name);
}

// Sockets: what could still reach them after the modules are closed (process.stdout.constructor is
// net.Socket; fetch's own client calls the same prototype) goes through these prototypes.
const socketConnect = net.Socket.prototype.connect;
/** Sockets the code opened, by a counter (a plain object: the code can change Set's prototype). */
const sockets = Object.create(null);
let nextSocket = 0;
let inCall = false;

if (network === 'none') {
  lock(net.Socket.prototype, 'connect', refuse('network access'));
  lock(net.Server.prototype, 'listen', refuse('network access'));
  for (const name of ['bind', 'connect', 'send']) lock(dgram.Socket.prototype, name, refuse('network access'));
  for (const name of ['fetch', 'WebSocket', 'EventSource']) lock(globalThis, name, refuse(`${name}`));
  const modules = ['net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns', 'dns/promises'];
  for (const name of [...modules, '_http_agent', '_http_client', '_http_server', '_tls_wrap']) closeModule(name);
} else {
  // The network is the operator's to give, but never the service itself (its API and its store
  // listen on loopback), never a local socket file, never UDP, and never after the call returned.
  const local = new net.BlockList();
  local.addSubnet('127.0.0.0', 8, 'ipv4');
  local.addAddress('0.0.0.0', 'ipv4');
  local.addAddress('::', 'ipv6');
  local.addAddress('::1', 'ipv6');
  local.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  const refused = (address) =>
    !allowLoopback && net.isIP(address) !== 0 && local.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  const lookup = dns.lookup;
  const normalizeArgs = net._normalizeArgs;
  const checkedLookup = (hostname, options, callback) => {
    const done = typeof options === 'function' ? options : callback;
    const opts = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
    lookup(hostname, { ...opts, all: true }, (error, addresses) => {
      if (error) return done(error);
      const allowed = addresses.filter((a) => !refused(a.address));
      if (allowed.length === 0) return done(new Error(`${hostname} resolves only to addresses of this machine`));
      if (opts.all) done(null, allowed);
      else done(null, allowed[0].address, allowed[0].family);
    });
  };
  lock(net.Socket.prototype, 'connect', function connect(...args) {
    if (!inCall) throw new Error('network access after the function returned is not allowed');
    // The runtime's own callers (http, tls, fetch) pass arguments already normalised.
    const [given, listener] = Array.isArray(args[0]) ? args[0] : normalizeArgs(args);
    // One copy, read once: a getter must not answer the check one thing and the connect another.
    const options = { ...given };
    if (typeof options.path === 'string' && options.path !== '') {
      throw new Error('connecting to a local socket file is not allowed in event hook functions');
    }
    const host = typeof options.host === 'string' ? options.host.replace(/^\[|\]$/g, '') : 'localhost';
    if (refused(host)) throw new Error(`connecting to ${host} (this machine) is not allowed in event hook functions`);
    const key = nextSocket++;
    sockets[key] = this;
    this.once('close', () => delete sockets[key]);
    return socketConnect.call(this, { ...options, host, lookup: checkedLookup }, ...(listener ? [listener] : []));
  });
  lock(net.Server.prototype, 'listen', refuse('listening for connections'));
  for (const name of ['bind', 'connect', 'send']) lock(dgram.Socket.prototype, name, refuse('UDP'));
}

// Timers the code starts are stopped when its call ends (or its body, when loaded).
const liveTimers = [];
const originals = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
  clearTimeout: globalThis.clearTimeout,
  clearInterval: globalThis.clearInterval,
  clearImmediate: globalThis.clearImmediate,
};
const tracked =
  (start, clear) =>
  (...args) => {
    const handle = start(...args);
    liveTimers[liveTimers.length] = { handle, clear };
    return handle;
  };
const wrappedTimers = {
  setTimeout: tracked(originals.setTimeout, originals.clearTimeout),
  setInterval: tracked(originals.setInterval, originals.clearInterval),
  setImmediate: tracked(originals.setImmediate, originals.clearImmediate),
};
for (const [name, value] of Object.entries(wrappedTimers)) {
  globalThis[name] = value;
  lock(timers, name, value);
}
module.syncBuiltinESMExports();

// What runs after a call uses only values captured here and index loops: the code may have changed
// the prototypes of Array, Set, Map or Promise to make the checks below see nothing.
const destroySocket = Function.prototype.call.bind(net.Socket.prototype.destroy);
const NativePromise = Promise;
const countResources = () => {
  const counts = Object.create(null);
  const types = activeResources();
  for (let i = 0; i < types.length; i++) counts[types[i]] = (counts[types[i]] ?? 0) + 1;
  return counts;
};
const nextTurn = () => new NativePromise((resolve) => originals.setImmediate(resolve));
/** What this process itself keeps open (the IPC channel, stdio), taken before any user code runs. */
let baseline = Object.create(null);

/**
 * Stops what the code started and says whether anything is still running: the parent then kills
 * this process, which ends whatever it was (in a PID namespace, with every process it started).
 */
async function stopLeftovers() {
  inCall = false;
  for (let i = 0; i < liveTimers.length; i++) liveTimers[i].clear(liveTimers[i].handle);
  liveTimers.length = 0;
  for (const key in sockets) destroySocket(sockets[key]);
  const extra = () => {
    const now = countResources();
    for (const type in now) if (now[type] > (baseline[type] ?? 0)) return true;
    return false;
  };
  // Closed handles leave the loop's list a turn or two later.
  for (let turn = 0; turn < 3; turn++) {
    await nextTurn();
    if (!extra()) return false;
  }
  return true;
}

let userFunction;

function describe(value) {
  let text;
  if (value instanceof Error) {
    text = value.message || value.name;
    // Node's access errors say little on their own ("process.binding"); their code says why.
    if (typeof value.code === 'string' && !text.includes(value.code)) text = `${value.code}: ${text}`;
  } else if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

async function load(code) {
  const body = new AsyncFunction(code);
  baseline = countResources();
  inCall = true;
  const outcome = await body().then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
  if (await stopLeftovers()) throw new Error('the code left something running after it returned its function');
  if ('error' in outcome) throw outcome.error;
  const fn = outcome.value;
  if (typeof fn !== 'function') {
    throw new Error(`the code must return a function, it returned ${fn === null ? 'null' : typeof fn}`);
  }
  userFunction = fn;
  baseline = countResources();
}

function encode(value) {
  if (value instanceof Error) throw value;
  let json;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw new Error(`the function returned a value that is not JSON-serialisable: ${describe(error)}`);
  }
  if (json === undefined) {
    throw new Error(`the function returned a ${typeof value}, which is not JSON-serialisable`);
  }
  if (Buffer.byteLength(json) > MAX_RESULT_BYTES) {
    throw new Error(`the function returned more than ${MAX_RESULT_BYTES} bytes of JSON`);
  }
  return json;
}

const NO_CONTEXT = { deliveryId: null, attempt: null, eventId: null };

async function call(args) {
  if (!userFunction) throw new Error('no function is loaded');
  const context = { ...NO_CONTEXT, ...args.context };
  inCall = true;
  // Kong's fourth argument is the worker's pid: the parent gives this worker's own as the machine
  // sees it (inside its PID namespace the process is 1), never the service's.
  return encode(await userFunction(args.data, args.event, args.source, args.pid, context));
}

async function handle(message) {
  if (message?.type === 'load') {
    try {
      await load(String(message.code));
      send({ type: 'loaded' });
    } catch (error) {
      send({ type: 'failed', message: describe(error) });
    }
  } else if (message?.type === 'call') {
    const { id, args } = message;
    let reply;
    try {
      reply = { type: 'result', id, json: await call(args) };
    } catch (error) {
      reply = { type: 'failed', id, message: describe(error) };
    }
    send({ ...reply, dirty: await stopLeftovers() });
  }
}

function fatal(error) {
  try {
    send({ type: 'fatal', message: describe(error) }, () => process.exit(1));
  } catch {
    process.exit(1);
  }
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
process.on('message', (message) => {
  void handle(message);
});
// The parent went away: nobody will ever ask this process anything again.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
