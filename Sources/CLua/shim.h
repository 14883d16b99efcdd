#ifndef CLUA_SHIM_H
#define CLUA_SHIM_H

// Lua 5.4 for Swift. Swift cannot import Lua's function-like macros, and it must never be unwound by
// Lua's errors (lua_error and luaL_error longjmp): everything that raises a Lua error lives here, in C.

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

// MARK: - The control block: memory accounting, instruction budget, the host

/// Per-state control block, passed to the allocator as its user data and so reachable from any thread of
/// the state (`clua_control_of`).
typedef struct clua_control {
    /// Bytes currently allocated by the state.
    size_t used;
    /// Allocations that would take `used` past this fail while `strict` is set.
    size_t limit;
    /// Non-zero while Lua code runs. Zero while the host (Swift) runs, so that no Lua API call made from
    /// Swift can raise a memory error (which would longjmp across Swift frames).
    int strict;
    /// Instructions left for the current entry into Lua; the hook raises an error when it is used up.
    long long budget;
    /// How many instructions between two calls of the count hook.
    int granularity;
    /// Set once the budget ran out during the current entry.
    int exhausted;
    /// The host object (an unretained Swift reference).
    void *host;
} clua_control;

static inline void *clua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    clua_control *c = (clua_control *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->used -= old;
        return NULL;
    }
    if (nsize > old && c->strict && c->used - old + nsize > c->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    c->used = c->used - old + nsize;
    return p;
}

/// The control block of a state (or of any of its threads).
static inline clua_control *clua_control_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (clua_control *)ud;
}

static inline void clua_hook(lua_State *L, lua_Debug *ar) {
    clua_control *c = clua_control_of(L);
    c->budget -= c->granularity;
    if (c->budget > 0) return;
    c->exhausted = 1;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        lua_pushfstring(L, "%s:%d: instruction limit exceeded", ar->short_src, ar->currentline);
    } else {
        lua_pushstring(L, "instruction limit exceeded");
    }
    lua_error(L);
}

static inline int clua_panic(lua_State *L) {
    (void)L;
    abort();
    return 0;
}

/// A new state using the capped allocator of `c` and the instruction-count hook; NULL if out of memory.
static inline lua_State *clua_newstate(clua_control *c) {
    lua_State *L = lua_newstate(clua_alloc, c);
    if (L == NULL) return NULL;
    lua_atpanic(L, clua_panic);
    lua_sethook(L, clua_hook, LUA_MASKCOUNT, c->granularity);
    return L;
}

/// Re-arms the budget and the memory cap before Lua code runs.
static inline void clua_enter(lua_State *L, long long budget) {
    clua_control *c = clua_control_of(L);
    c->budget = budget;
    c->exhausted = 0;
    c->strict = 1;
}

/// Lifts the memory cap once Lua code has returned to the host.
static inline void clua_leave(lua_State *L) {
    clua_control_of(L)->strict = 0;
}

// MARK: - Swift functions

/// A Swift function returns this (with the message on the top of the stack) to raise a Lua error.
#define CLUA_RAISE (-1)
/// A Swift function returns this to yield the running coroutine (with no values).
#define CLUA_YIELD (-2)

static inline int clua_trampoline(lua_State *L) {
    lua_CFunction f = (lua_CFunction)lua_touserdata(L, lua_upvalueindex(1));
    clua_control *c = clua_control_of(L);
    int strict = c->strict;
    c->strict = 0;
    int r = f(L);
    c->strict = strict;
    if (r == CLUA_RAISE) return lua_error(L);
    if (r == CLUA_YIELD) return lua_yield(L, 0);
    return r;
}

/// Pushes a Swift function; it returns a result count, `CLUA_RAISE` or `CLUA_YIELD`, and is reached
/// through a C trampoline that raises the error or yields in C.
static inline void clua_pushswiftfunction(lua_State *L, lua_CFunction f) {
    lua_pushlightuserdata(L, (void *)f);
    lua_pushcclosure(L, clua_trampoline, 1);
}

// MARK: - Sandbox

static inline int clua_opensandbox_unprotected(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_settop(L, 0);
    // A reduced os: clocks and dates only.
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 4);
    static const char *const keep[] = {"time", "date", "clock", "difftime", NULL};
    for (int i = 0; keep[i] != NULL; i++) {
        lua_getfield(L, -2, keep[i]);
        lua_setfield(L, -2, keep[i]);
    }
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_settop(L, 0);
    // The loaded-modules table would hand out the full os library: empty it.
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    static const char *const drop[] = {"dofile", "loadfile", "require", "package", "debug", "io", NULL};
    for (int i = 0; drop[i] != NULL; i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    // Strings' metatable is shared by every script: protect it.
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_settop(L, 0);
    return 0;
}

/// Opens base, string, table, math, utf8, coroutine and a reduced os (time, date, clock, difftime);
/// returns a Lua status (LUA_OK on success).
static inline int clua_opensandbox(lua_State *L) {
    lua_pushcfunction(L, clua_opensandbox_unprotected);
    return lua_pcall(L, 0, 0, 0);
}

/// A message handler that appends a traceback to string errors.
static inline int clua_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static inline void clua_pushtraceback(lua_State *L) { lua_pushcfunction(L, clua_traceback); }

// MARK: - Macros Swift cannot import

static inline int clua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline const char *clua_tostring(lua_State *L, int index) { return lua_tostring(L, index); }
static inline void clua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void clua_newtable(lua_State *L) { lua_newtable(L); }
static inline int clua_isnil(lua_State *L, int index) { return lua_isnil(L, index); }
static inline int clua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int clua_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void clua_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline void clua_remove(lua_State *L, int index) { lua_remove(L, index); }
static inline void clua_insert(lua_State *L, int index) { lua_insert(L, index); }
static inline int clua_isinteger(lua_State *L, int index) { return lua_isinteger(L, index); }
static inline lua_Integer clua_tointeger(lua_State *L, int index) { return lua_tointeger(L, index); }
static inline lua_Number clua_tonumber(lua_State *L, int index) { return lua_tonumber(L, index); }
static inline int clua_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void clua_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline int clua_getref(lua_State *L, int ref) { return lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
static inline void clua_traceback_of(lua_State *L, lua_State *thread, const char *msg) {
    luaL_traceback(L, thread, msg, 0);
}

/// The source ("@file") of the function on the top of the stack, which is popped.
static inline const char *clua_functionsource(lua_State *L) {
    lua_Debug ar;
    if (!lua_getinfo(L, ">S", &ar)) return "?";
    return ar.source;
}

#endif
