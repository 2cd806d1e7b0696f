-- event-hooks-bridge: forwards Kong's own events to the event-hooks service's `POST /events`.
--
-- * Entity changes and balancer health are node events: each worker subscribes once in
--   `init_worker`. They use the node's global instance of this plugin (read from the plugins
--   table and cached), since no request and so no plugin configuration goes with them.
-- * Rate-limit refusals are request events: the `log` phase of each instance sees them.
-- Events are buffered and sent in batches through Kong's own queue (kong.tools.queue).
local Queue = require "kong.tools.queue"
local events = require "kong.plugins.event-hooks-bridge.events"
local sender = require "kong.plugins.event-hooks-bridge.sender"

local ngx = ngx
local kong = kong
local fmt = string.format

local PLUGIN_NAME = "event-hooks-bridge"
-- POST /events takes at most 100 events per request.
local MAX_BATCH = 100
-- How long the node's global configuration is trusted before it is read again.
local CONF_TTL = 10

local Bridge = {
  PRIORITY = 5, -- after the rate limiters, whose answers the log phase reads
  VERSION = "0.1.0",
}

-- Per worker: unique ids for events so that a retried batch is not accepted twice.
local id_prefix
local id_counter = 0

local function next_id()
  id_counter = id_counter + 1
  return fmt("%s.%d", id_prefix, id_counter)
end

local function enabled(conf, source)
  local sources = conf.sources
  if type(sources) ~= "table" then return true end
  for _, s in ipairs(sources) do
    if s == source then return true end
  end
  return false
end

--- The options given to Kong's queue for a configuration.
function Bridge.queue_conf(conf)
  return {
    name = PLUGIN_NAME .. ":" .. conf.url,
    log_tag = PLUGIN_NAME,
    max_batch_size = math.min(conf.batch_max_size or MAX_BATCH, MAX_BATCH),
    max_coalescing_delay = conf.flush_timeout or 2,
    max_entries = conf.max_entries or 10000,
    initial_retry_delay = 0.01,
    max_retry_time = conf.max_retry_time or 60,
    max_retry_delay = 60,
    concurrency_limit = 1,
  }
end

-- Whether the last enqueue found the buffer full, so the overflow is logged once per episode.
local overflowing = {}

local function enqueue(conf, event)
  if not enabled(conf, event.source) then return end
  event.id = next_id()
  local queue_conf = Bridge.queue_conf(conf)
  -- Older Kong versions have no `is_full`; their queue logs "queue full" itself.
  if Queue.is_full and Queue.is_full(queue_conf) then
    if not overflowing[queue_conf.name] then
      overflowing[queue_conf.name] = true
      kong.log.err(fmt("buffer full (%d events waiting for %s): dropping the oldest events until it is reachable again",
        queue_conf.max_entries, sender.events_url(conf.url)))
    end
  elseif overflowing[queue_conf.name] then
    overflowing[queue_conf.name] = nil
    kong.log.notice("buffer below its limit again, events to ", sender.events_url(conf.url), " are no longer dropped")
  end
  local ok, err = Queue.enqueue(queue_conf, sender.send, conf, event)
  if not ok then
    kong.log.err("could not queue a ", event.source, "/", event.event, " event: ", err)
  end
end

-- The node's global instance (no route, service or consumer), cached for CONF_TTL seconds.
local node_conf, node_conf_at

local function is_global(plugin)
  local null = ngx.null
  return (plugin.route == nil or plugin.route == null)
    and (plugin.service == nil or plugin.service == null)
    and (plugin.consumer == nil or plugin.consumer == null)
end

function Bridge.node_conf()
  local now = ngx.now()
  if node_conf_at and now - node_conf_at < CONF_TTL then return node_conf end
  local found
  -- Every workspace's plugins, as Kong's own event hooks read their entities.
  for plugin, err in kong.db.plugins:each(nil, { workspace = ngx.null, show_ws_id = true }) do
    if err then
      kong.log.warn("could not read the plugins: ", err)
      return node_conf
    end
    if plugin.name == PLUGIN_NAME and plugin.enabled and is_global(plugin) then
      found = plugin.config
      break
    end
  end
  node_conf, node_conf_at = found, now
  return node_conf
end

function Bridge.on_crud(data, event)
  -- A change of this plugin's own instances applies to the next event, not CONF_TTL later.
  if type(data) == "table" and type(data.entity) == "table" and data.entity.name == PLUGIN_NAME then
    node_conf_at = nil
  end
  local conf = Bridge.node_conf()
  if not conf then return end
  local out = events.crud(data, event, ngx.null)
  if out then enqueue(conf, out) end
end

function Bridge.on_health(upstream_id, ip, port, hostname, health)
  -- Every worker hears each health change; one worker per node forwards it.
  if ngx.worker.id() ~= 0 then return end
  local conf = Bridge.node_conf()
  if not conf then return end
  enqueue(conf, events.health(upstream_id, ip, port, hostname, health))
end

function Bridge:init_worker()
  id_prefix = fmt("kong.%s.%d.%d", (kong.node.get_id() or "node"):sub(1, 8), ngx.worker.pid(), math.floor(ngx.now()))
  -- Kong posts each change on "crud" twice ("<entity>" and "<entity>:<operation>"), only on the
  -- worker that made it; events.crud keeps the second copy.
  kong.worker_events.register(function(data, event) Bridge.on_crud(data, event) end, "crud")
  local ok, balancer = pcall(require, "kong.runloop.balancer")
  if ok and balancer.subscribe_to_healthcheck_events then
    balancer.subscribe_to_healthcheck_events(Bridge.on_health)
  else
    kong.log.warn("this Kong has no balancer health subscription: balancer/health events are not forwarded")
  end
end

function Bridge:log(conf)
  local out = events.rate_limit(
    kong.response.get_status(),
    kong.response.get_headers(),
    kong.client.get_consumer(),
    kong.client.get_forwarded_ip(),
    kong.router.get_service(),
    ngx.null
  )
  if out then enqueue(conf, out) end
end

return Bridge
