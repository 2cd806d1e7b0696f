#!/usr/bin/env node
// The event-hooks command line: sends events to a running service (the local runtime by default).
// Plain JavaScript so `npx event-hooks` works without a build step.
import { parseArgs } from 'node:util';

const USAGE = `usage: event-hooks emit <source> <event> '<json data>' [--url URL]

Sends one event to POST /events and prints the accepted event (id, time).
  --url   the service's base URL (default: $EVENT_HOOKS_URL or http://127.0.0.1:8001)

examples:
  event-hooks emit crud consumers:create '{"operation":"create","entity":{"username":"jane"}}'
  event-hooks emit rate-limiting-advanced rate-limit-exceeded '{"consumer":"c1","ip":"10.0.0.1","service":"s1","rate":11,"limit":10,"window":"minute"}'`;

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    fail(`${error.message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const [command, source, event, json, ...extra] = positionals;
  if (command !== 'emit' || !source || !event || extra.length > 0) fail(USAGE);
  let data = {};
  if (json !== undefined) {
    try {
      data = JSON.parse(json);
    } catch (error) {
      fail(`the data is not valid JSON: ${error.message}`);
    }
  }
  const base = (values.url ?? process.env.EVENT_HOOKS_URL ?? 'http://127.0.0.1:8001').replace(/\/+$/, '');
  let res;
  try {
    res = await fetch(`${base}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source, event, data }),
    });
  } catch (error) {
    fail(`cannot reach ${base}: ${error.cause?.message ?? error.message} (is the service running? try: npm start)`, 1);
  }
  const text = await res.text();
  if (res.status !== 202) fail(`${res.status}: ${text}`, 1);
  process.stdout.write(`${text}\n`);
}

main();
