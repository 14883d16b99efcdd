import CLua
import OCPPRPC
import TagStore

/// Conversions between Swift values and a Lua stack; none of them raises a Lua error (failures are returned).
struct LuaStack {
    let L: OpaquePointer

    init(_ L: OpaquePointer) { self.L = L }

    /// The deepest table nesting converted either way.
    static let maxDepth = 64

    // MARK: - Reading

    func type(at index: Int32) -> Int32 { lua_type(L, index) }

    /// The string at `index`, only if it is a string (numbers are not converted).
    func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = lua_tolstring(L, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The number at `index` as a double, if it is a number.
    func number(at index: Int32) -> Double? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        return clua_tonumber(L, index)
    }

    /// The value at `index` as a tag value: nil → `.null`; tables and functions are refused.
    func tagValue(at index: Int32) -> Result<TagValue, ConversionError> {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .success(.null)
        case LUA_TBOOLEAN: return .success(.bool(lua_toboolean(L, index) != 0))
        case LUA_TNUMBER:
            if clua_isinteger(L, index) != 0 { return .success(.int(clua_tointeger(L, index))) }
            return .success(.double(clua_tonumber(L, index)))
        case LUA_TSTRING: return .success(.string(string(at: index) ?? ""))
        default: return .failure(ConversionError("a tag value must be a boolean, number, string or nil, not a \(typeName(at: index))"))
        }
    }

    /// The value at `index` as JSON: tables with string keys are objects, sequences are arrays, `{}` is `{}`.
    func json(at index: Int32, depth: Int = 0) -> Result<JSONValue, ConversionError> {
        let index = lua_absindex(L, index)
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .success(.null)
        case LUA_TBOOLEAN: return .success(.bool(lua_toboolean(L, index) != 0))
        case LUA_TNUMBER:
            if clua_isinteger(L, index) != 0 { return .success(.int(clua_tointeger(L, index))) }
            let number = clua_tonumber(L, index)
            guard number.isFinite else { return .failure(ConversionError("JSON has no NaN or infinity")) }
            return .success(.double(number))
        case LUA_TSTRING: return .success(.string(string(at: index) ?? ""))
        case LUA_TTABLE: return table(at: index, depth: depth)
        default: return .failure(ConversionError("cannot convert a \(typeName(at: index)) to JSON"))
        }
    }

    private func table(at index: Int32, depth: Int) -> Result<JSONValue, ConversionError> {
        guard depth < Self.maxDepth else { return .failure(ConversionError("tables nested too deeply (or a cycle)")) }
        guard lua_checkstack(L, 4) != 0 else { return .failure(ConversionError("Lua stack exhausted")) }
        var members: [String: JSONValue] = [:]
        var elements: [Int: JSONValue] = [:]
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let value: JSONValue
            switch json(at: -1, depth: depth + 1) {
            case .success(let converted): value = converted
            case .failure(let error):
                clua_pop(L, 2)
                return .failure(error)
            }
            if lua_type(L, -2) == LUA_TSTRING, let key = string(at: -2) {
                members[key] = value
            } else if lua_type(L, -2) == LUA_TNUMBER, clua_isinteger(L, -2) != 0, clua_tointeger(L, -2) >= 1 {
                elements[Int(clua_tointeger(L, -2))] = value
            } else {
                clua_pop(L, 2)
                return .failure(ConversionError("JSON object keys must be strings and array indices 1…n"))
            }
            clua_pop(L, 1)
        }
        if elements.isEmpty { return .success(.object(members)) }
        guard members.isEmpty, elements.count == Int(lua_rawlen(L, index)), elements.keys.max() == elements.count else {
            return .failure(ConversionError("a table mixes keys and array elements, or has holes"))
        }
        return .success(.array((1...elements.count).map { elements[$0] ?? .null }))
    }

    func typeName(at index: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, index)))
    }

    // MARK: - Pushing

    func push(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                _ = lua_pushlstring(L, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), bytes.count)
            } else {
                _ = lua_pushstring(L, "")
            }
        }
    }

    /// Pushes a tag value; `.null` and nil become nil.
    func push(_ value: TagValue?) {
        switch value {
        case .none, .null?: lua_pushnil(L)
        case .bool(let b)?: lua_pushboolean(L, b ? 1 : 0)
        case .int(let i)?: lua_pushinteger(L, i)
        case .double(let d)?: lua_pushnumber(L, d)
        case .string(let s)?: push(s)
        }
    }

    /// Pushes a JSON value (objects and arrays become tables, null nil); false if the stack cannot grow.
    @discardableResult
    func push(_ value: JSONValue, depth: Int = 0) -> Bool {
        guard depth < Self.maxDepth, lua_checkstack(L, 3) != 0 else { return false }
        switch value {
        case .null: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, i)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): push(s)
        case .array(let elements):
            lua_createtable(L, Int32(clamping: elements.count), 0)
            for (offset, element) in elements.enumerated() {
                guard push(element, depth: depth + 1) else { clua_pop(L, 1); return false }
                lua_rawseti(L, -2, lua_Integer(offset + 1))
            }
        case .object(let members):
            lua_createtable(L, 0, Int32(clamping: members.count))
            for (key, member) in members {
                if case .null = member { continue }
                push(key)
                guard push(member, depth: depth + 1) else { clua_pop(L, 2); return false }
                lua_rawset(L, -3)
            }
        }
        return true
    }

    /// Sets `table[key] = value on top` for the table at `index` without metamethods (pops the value).
    func setField(_ key: String, tableAt index: Int32) {
        let table = lua_absindex(L, index)
        push(key)
        clua_insert(L, -2)
        lua_rawset(L, table)
    }

    /// The string field `key` of the table at `index` (raw access), or nil.
    func stringField(_ key: String, tableAt index: Int32) -> (present: Bool, value: String?) {
        let table = lua_absindex(L, index)
        push(key)
        lua_rawget(L, table)
        defer { clua_pop(L, 1) }
        if lua_type(L, -1) == LUA_TNIL { return (false, nil) }
        return (true, string(at: -1))
    }
}

/// Why a Lua value could not be converted.
struct ConversionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
