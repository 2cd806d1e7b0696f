// Child process that runs the user code of ONE `lambda` hook function (see functionRunner.ts).
// Plain JavaScript so that a bare `node` can start it without the service's TypeScript loader.
//
// Protocol over the IPC channel, one request at a time:
//   child → parent  { type: 'ready' }                                 once booted
//   parent → child  { type: 'load', code }                            compile and run the body once
//   child → parent  { type: 'loaded' } | { type: 'failed', message }
//   parent → child  { type: 'call', id, args: { data, event, source, pid } }
//   child → parent  { type: 'result', id, json } | { type: 'failed', id, message }
//   child → parent  { type: 'fatal', message }                        an error escaped the user code; exiting
//
// The user code runs in this process's global scope, not in this module's scope, so it cannot
// reach the bindings below (the captured `send` in particular).

const MAX_MESSAGE_CHARS = 2_000;
const MAX_RESULT_BYTES = 6 * 1024 * 1024;

const send = process.send.bind(process);
const AsyncFunction = (async () => {}).constructor;

// Whatever a launcher (a shell) put into the environment is not the user's business either.
for (const key of Object.keys(process.env)) delete process.env[key];

// Node's permission model does not cover signals or native addons: user code may not kill the
// service (its parent), other hooks' workers or any other process, nor load native code.
for (const name of ['kill', '_kill', 'dlopen', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups']) {
  if (!(name in process)) continue;
  Object.defineProperty(process, name, {
    value: () => {
      throw new Error(`process.${name} is not allowed in event hook functions`);
    },
    writable: false,
    configurable: false,
  });
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
  const fn = await body();
  if (typeof fn !== 'function') {
    throw new Error(`the code must return a function, it returned ${fn === null ? 'null' : typeof fn}`);
  }
  userFunction = fn;
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
    try {
      if (!userFunction) throw new Error('no function is loaded');
      const value = await userFunction(args.data, args.event, args.source, args.pid);
      send({ type: 'result', id, json: encode(value) });
    } catch (error) {
      send({ type: 'failed', id, message: describe(error) });
    }
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
