/// Lua code run once per state, after the sandboxed libraries are open. Given the globals table and the
/// host's log function, it returns `make_env(file)` (a fresh environment for one script) and the weak set
/// of handler coroutines (which scripts may not resume or close themselves).
enum LuaPrelude {
    static let source = #"""
        local base, log_write = ...
        local pairs, type, select, tostring, setmetatable, error = pairs, type, select, tostring, setmetatable, error
        local concat, base_load, collect = table.concat, load, collectgarbage
        local co_resume, co_close = coroutine.resume, coroutine.close
        local handlers = setmetatable({}, {__mode = "k"})

        base.load, base.print, base.warn = nil, nil, nil
        base.collectgarbage = function(option, ...)
          if option == nil or option == "collect" or option == "count" or option == "step" then
            return collect(option, ...)
          end
          error("collectgarbage('" .. tostring(option) .. "') is not available to scripts", 2)
        end
        base.coroutine.resume = function(co, ...)
          if handlers[co] then return false, "cannot resume a handler's coroutine" end
          return co_resume(co, ...)
        end
        base.coroutine.close = function(co)
          if handlers[co] then return false, "cannot close a handler's coroutine" end
          return co_close(co)
        end

        local libraries = {}
        for name, value in pairs(base) do
          if type(value) == "table" and name ~= "_G" then libraries[name] = value end
        end
        local function copy(t)
          local c = {}
          for k, v in pairs(t) do c[k] = v end
          return c
        end
        local shared = {__index = base, __metatable = false}

        local function make_env(file)
          local env = {}
          for name, library in pairs(libraries) do env[name] = copy(library) end
          env._G = env
          env.load = function(chunk, name, mode, environment)
            return base_load(chunk, name, "t", environment or env)
          end
          local function writer(level)
            return function(...)
              local parts = {}
              for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
              log_write(level, file, concat(parts, " "))
            end
          end
          env.log = {debug = writer("debug"), info = writer("info"), warn = writer("warn"), error = writer("error")}
          env.print = env.log.info
          return setmetatable(env, shared)
        end

        return make_env, handlers
        """#
}
