local cjson = require "cjson.safe"
local stub_kong = require "kong_stub"

local URL = "http://127.0.0.1:8001/"

local function global_plugin(config)
  local conf = {
    url = URL,
    sources = { "crud", "balancer", "rate-limiting-advanced" },
    batch_max_size = 100,
    flush_timeout = 2,
    timeout = 10000,
    max_entries = 10000,
    max_retry_time = 60,
  }
  for k, v in pairs(config or {}) do conf[k] = v end
  return { name = "event-hooks-bridge", enabled = true, route = ngx.null, service = ngx.null, consumer = ngx.null, config = conf }
end

-- Kong's runloop posts each change twice on "crud": "<entity>" and "<entity>:<operation>", with the
-- DAO's schema object (its `name` is the entity name) and Kong's entity rows.
local function post_change(operation, schema_name, entity, old_entity)
  local data = { operation = operation, schema = { name = schema_name, table = nil, primary_key = { "id" } }, entity = entity, old_entity = old_entity }
  stub_kong.post("crud", schema_name, data)
  stub_kong.post("crud", schema_name .. ":" .. operation, data)
end

local function values(state)
  local out = {}
  for i, call in ipairs(state.enqueued) do out[i] = call.value end
  return out
end

local function without_ids(events)
  for _, e in ipairs(events) do e.id = nil end
  return events
end

describe("event-hooks-bridge", function()
  local state, handler

  local function start(options)
    state = stub_kong.reset(options)
    handler = require "kong.plugins.event-hooks-bridge.handler"
    ngx.null = cjson.null
    handler:init_worker()
  end

  describe("init_worker", function()
    it("subscribes once to every crud event and to balancer health", function()
      start({ plugins = {} })
      assert.same(1, #state.registered)
      assert.same("crud", state.registered[1].source)
      assert.is_nil(state.registered[1].event)
      assert.same(1, #state.health_subscribers)
    end)
  end)

  describe("entity changes", function()
    it("sends a consumer update once, in the README's mapping", function()
      start({ plugins = { global_plugin() } })
      local entity = { id = "8a1c0f3e-7a2b-4c55-9c1d-2b5b8f0e6a11", username = "jane", custom_id = cjson.null, created_at = 1700000000, tags = cjson.null }
      local old = { id = "8a1c0f3e-7a2b-4c55-9c1d-2b5b8f0e6a11", username = "janet", custom_id = cjson.null, created_at = 1700000000, tags = cjson.null }
      post_change("update", "consumers", entity, old)
      local events = values(state)
      assert.same(1, #events)
      assert.matches("^[A-Za-z0-9._:-]+$", events[1].id)
      assert.is_true(#events[1].id <= 128)
      assert.same({
        { source = "crud", event = "consumers:update",
          data = { operation = "update", entity = entity, old_entity = old, schema = "consumers" } },
      }, without_ids(events))
      -- The global instance is looked up in every workspace.
      assert.same({ workspace = cjson.null, show_ws_id = true }, state.plugins_each_options)
      -- Kong's nulls stay JSON nulls on the wire.
      assert.same('{"custom_id":null}', cjson.encode({ custom_id = events[1].data.entity.custom_id }))
    end)

    it("sends a create without old_entity and a delete with the deleted entity", function()
      start({ plugins = { global_plugin() } })
      post_change("create", "routes", { id = "r1", name = "orders", paths = { "/orders" } })
      post_change("delete", "services", { id = "s1", name = "orders" })
      assert.same({
        { source = "crud", event = "routes:create",
          data = { operation = "create", entity = { id = "r1", name = "orders", paths = { "/orders" } }, schema = "routes" } },
        { source = "crud", event = "services:delete",
          data = { operation = "delete", entity = { id = "s1", name = "orders" }, schema = "services" } },
      }, without_ids(values(state)))
    end)

    it("gives each event its own id", function()
      start({ plugins = { global_plugin() } })
      post_change("create", "consumers", { id = "c1" })
      post_change("create", "consumers", { id = "c2" })
      local events = values(state)
      assert.are_not.equal(events[1].id, events[2].id)
    end)

    it("sends nothing without a global instance of the plugin", function()
      local scoped = global_plugin()
      scoped.service = { id = "s1" }
      local disabled = global_plugin()
      disabled.enabled = false
      start({ plugins = { { name = "rate-limiting", enabled = true, config = {} }, scoped, disabled } })
      post_change("create", "consumers", { id = "c1" })
      assert.same({}, values(state))
    end)

    it("sends nothing when crud is not among the sources", function()
      start({ plugins = { global_plugin({ sources = { "balancer" } }) } })
      post_change("create", "consumers", { id = "c1" })
      assert.same({}, values(state))
    end)
  end)

  describe("balancer health", function()
    it("sends balancer/health from worker 0", function()
      start({ plugins = { global_plugin() } })
      state.health_subscribers[1]("u1-id", "10.0.0.5", 8080, "api.internal", "unhealthy")
      assert.same({
        { source = "balancer", event = "health",
          data = { upstream_id = "u1-id", ip = "10.0.0.5", port = 8080, hostname = "api.internal", health = "unhealthy" } },
      }, without_ids(values(state)))
    end)

    it("sends nothing from the other workers, which hear the same change", function()
      start({ plugins = { global_plugin() }, worker_id = 1 })
      state.health_subscribers[1]("u1-id", "10.0.0.5", 8080, "api.internal", "healthy")
      assert.same({}, values(state))
    end)
  end)

  describe("rate-limit refusals (log phase)", function()
    local function log(response, config)
      start({ plugins = {}, response = response })
      handler:log(global_plugin(config).config)
      return without_ids(values(state))
    end

    it("maps a rate-limiting refusal: consumer username, ip, service name, the exhausted window", function()
      local events = log({
        status = 429,
        headers = {
          ["X-RateLimit-Limit-Second"] = "5", ["X-RateLimit-Remaining-Second"] = "3",
          ["X-RateLimit-Limit-Minute"] = "10", ["X-RateLimit-Remaining-Minute"] = "0",
          ["RateLimit-Limit"] = "5", ["RateLimit-Remaining"] = "0", ["RateLimit-Reset"] = "12",
          ["Retry-After"] = "12",
        },
        consumer = { id = "c-id", username = "jane" },
        ip = "203.0.113.7",
        service = { id = "s-id", name = "orders" },
      })
      assert.same({
        { source = "rate-limiting-advanced", event = "rate-limit-exceeded",
          data = { consumer = "jane", ip = "203.0.113.7", service = "orders", limit = 10, window = "minute" } },
      }, events)
    end)

    it("falls back to ids, and to the shortest window when none is exhausted", function()
      local events = log({
        status = 429,
        headers = { ["x-ratelimit-limit-hour"] = "100", ["x-ratelimit-limit-minute"] = { "10", "10" } },
        consumer = { id = "c-id", username = cjson.null },
        ip = "198.51.100.2",
        service = { id = "s-id" },
      })
      assert.same({ consumer = "c-id", ip = "198.51.100.2", service = "s-id", limit = 10, window = "minute" }, events[1].data)
    end)

    it("takes the limit from RateLimit-Limit alone, without a consumer", function()
      local events = log({ status = 429, headers = { ["RateLimit-Limit"] = "20" }, ip = "198.51.100.2" })
      assert.same({ ip = "198.51.100.2", limit = 20 }, events[1].data)
    end)

    it("ignores a 429 without rate-limit headers and a 200 with them", function()
      assert.same({}, log({ status = 429, headers = { ["Retry-After"] = "1" } }))
      assert.same({}, log({ status = 200, headers = { ["X-RateLimit-Limit-Minute"] = "10" } }))
    end)

    it("sends nothing when rate-limiting-advanced is not among the sources", function()
      assert.same({}, log({ status = 429, headers = { ["RateLimit-Limit"] = "20" } }, { sources = { "crud" } }))
    end)
  end)

  describe("the queue", function()
    it("is Kong's queue, with batches of at most 100, the flush timeout and a bounded buffer", function()
      start({ plugins = { global_plugin({ flush_timeout = 5, max_entries = 500, max_retry_time = 120 }) } })
      post_change("create", "consumers", { id = "c1" })
      local call = state.enqueued[1]
      assert.same({
        name = "event-hooks-bridge:" .. URL,
        log_tag = "event-hooks-bridge",
        max_batch_size = 100,
        max_coalescing_delay = 5,
        max_entries = 500,
        initial_retry_delay = 0.01,
        max_retry_time = 120,
        max_retry_delay = 60,
        concurrency_limit = 1,
      }, call.queue_conf)
      assert.same(URL, call.handler_conf.url)
      assert.is_function(call.handler)
    end)

    it("never asks for batches over 100", function()
      local handler_module = (function() stub_kong.reset(); return require "kong.plugins.event-hooks-bridge.handler" end)()
      assert.same(100, handler_module.queue_conf({ url = URL, batch_max_size = 1000 }).max_batch_size)
      assert.same(10, handler_module.queue_conf({ url = URL, batch_max_size = 10 }).max_batch_size)
    end)

    it("logs one clear line when the buffer overflows, and one when it recovers", function()
      start({ plugins = { global_plugin({ max_entries = 2 }) } })
      state.full = true
      post_change("create", "consumers", { id = "c1" })
      post_change("create", "consumers", { id = "c2" })
      state.full = false
      post_change("create", "consumers", { id = "c3" })
      local errors, notices = {}, {}
      for _, line in ipairs(state.logs) do
        if line.level == "err" then errors[#errors + 1] = line.message end
        if line.level == "notice" then notices[#notices + 1] = line.message end
      end
      assert.same({ "buffer full (2 events waiting for http://127.0.0.1:8001/events): dropping the oldest events until it is reachable again" }, errors)
      assert.same(1, #notices)
      -- Kong's queue drops the oldest itself; the plugin still hands every event over.
      assert.same(3, #state.enqueued)
    end)
  end)

  describe("the batch handler", function()
    local batch = {
      { source = "balancer", event = "health", id = "kong.a.1", data = { upstream_id = "u1", health = "healthy" } },
      { source = "crud", event = "consumers:create", id = "kong.a.2", data = { operation = "create", entity = { id = "c1" }, schema = "consumers" } },
    }

    local function send(respond, config)
      state = stub_kong.reset({ respond = respond })
      local sender = require "kong.plugins.event-hooks-bridge.sender"
      return sender.send(global_plugin(config).config, batch)
    end

    it("POSTs the batch as a JSON array to <url>/events with the key as a bearer token; true on a 2xx", function()
      local ok, err = send(function() return { status = 202, body = '{"data":[]}' } end, { key = "ik_secret", timeout = 3000 })
      assert.is_true(ok)
      assert.is_nil(err)
      local request = state.requests[1]
      assert.same("http://127.0.0.1:8001/events", request.url)
      assert.same("POST", request.params.method)
      assert.same("Bearer ik_secret", request.params.headers["Authorization"])
      assert.same("application/json", request.params.headers["Content-Type"])
      assert.same(batch, cjson.decode(request.params.body))
      assert.same(3000, request.timeout)
    end)

    it("sends no Authorization header without a key", function()
      assert.is_true(send(function() return { status = 200, body = "" } end))
      assert.is_nil(state.requests[1].params.headers["Authorization"])
    end)

    it("returns false and an error on a 5xx, so Kong's queue retries", function()
      local ok, err = send(function() return { status = 503, body = '{"message":"stopping"}' } end)
      assert.is_false(ok)
      assert.matches("answered 503", err, 1, true)
    end)

    it("returns false and an error on a timeout or a refused connection", function()
      local ok, err = send(function() return nil, "timeout" end)
      assert.is_false(ok)
      assert.matches("timeout", err, 1, true)
      ok, err = send(function() return nil, "connection refused" end)
      assert.is_false(ok)
      assert.matches("connection refused", err, 1, true)
    end)

    it("retries a 429 but drops a batch the service refuses as invalid, with an error line", function()
      assert.is_false((send(function() return { status = 429, body = "" } end)))
      assert.is_true(send(function() return { status = 400, body = '{"message":"schema violation"}' } end))
      assert.matches("answered 400", state.logs[1].message, 1, true)
      assert.same("err", state.logs[1].level)
    end)
  end)
end)
