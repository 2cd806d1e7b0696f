-- The configuration schema, read with a stand-in for Kong's typedefs (the fields Kong's own
-- typedefs give are opaque here; the plugin's own fields and their bounds are what is checked).
describe("event-hooks-bridge schema", function()
  local schema

  setup(function()
    package.loaded["kong.db.schema.typedefs"] = {
      no_consumer = { type = "foreign", eq = ngx and ngx.null or "null" },
      protocols_http = { type = "set" },
      url = function(overrides)
        local field = { type = "string", custom_validator = "url" }
        for k, v in pairs(overrides or {}) do field[k] = v end
        return field
      end,
    }
    package.loaded["kong.plugins.event-hooks-bridge.schema"] = nil
    schema = require "kong.plugins.event-hooks-bridge.schema"
  end)

  local function config_fields()
    for _, field in ipairs(schema.fields) do
      if field.config then
        local out = {}
        for _, f in ipairs(field.config.fields) do
          local name, definition = next(f)
          out[name] = definition
        end
        return out
      end
    end
  end

  it("is named after the plugin and takes no consumer", function()
    assert.same("event-hooks-bridge", schema.name)
    assert.same("foreign", schema.fields[1].consumer.type)
  end)

  it("has url (required), key, sources, batch_max_size (at most 100) and flush_timeout", function()
    local fields = config_fields()
    assert.is_true(fields.url.required)
    assert.same("string", fields.key.type)
    assert.is_true(fields.key.encrypted)
    assert.same({ "crud", "balancer", "rate-limiting-advanced" }, fields.sources.default)
    assert.same({ "crud", "balancer", "rate-limiting-advanced" }, fields.sources.elements.one_of)
    assert.same(100, fields.batch_max_size.default)
    assert.same({ 1, 100 }, fields.batch_max_size.between)
    assert.same(2, fields.flush_timeout.default)
    assert.same(10000, fields.max_entries.default)
  end)
end)
