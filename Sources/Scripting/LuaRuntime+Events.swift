import CLua
import Dispatch
import OCPPRPC
import TagStore

extension LuaRuntime {
    // MARK: - Registration

    func addChangeHandler(pattern: String, handler: Handler) {
        changeHandlers.append(ChangeHandler(pattern: TagPattern(pattern), handler: handler))
        publishFilterIfCurrent()
    }

    func addRequestHandler(action: String, handler: Handler) {
        requestHandlers[action, default: []].append(handler)
        publishFilterIfCurrent()
    }

    func addTimer(period: UInt64, handler: Handler) {
        let id = (timers.map(\.id).max() ?? 0) + 1
        timers.append(Timer(id: id, period: period, next: DispatchTime.now().uptimeNanoseconds + period, handler: handler))
    }

    /// Makes the engine's event filter match this runtime's patterns and actions.
    func publishFilter() {
        var filter = EventFilter()
        for entry in changeHandlers { filter.add(entry.pattern) }
        filter.actions = Set(requestHandlers.keys)
        core.filter.withLock { $0 = filter }
    }

    private func publishFilterIfCurrent() {
        if loadingScript == nil, worker.runtime === self { publishFilter() }
    }

    // MARK: - Tag changes

    /// Runs the matching `on_change` handlers of every name whose value differs from the last one seen.
    func tagsChanged(_ names: [String]) {
        for name in names {
            let handlers = changeHandlers.filter { $0.pattern.matches(name) }.map(\.handler)
            guard !handlers.isEmpty else { continue }
            let value = core.host.readTag(name)
            let old = worker.lastValues[name]
            guard value != old else { continue }
            worker.lastValues[name] = value
            for handler in handlers {
                spawn(handler, pushArguments: { stack in
                    stack.push(name)
                    stack.push(value)
                    stack.push(old)
                    return 3
                }, onFinish: { _, _ in })
            }
        }
    }

    // MARK: - Timers

    /// When the next timer is due, if any.
    var nextTimerDeadline: DispatchTime? {
        timers.map(\.next).min().map { DispatchTime(uptimeNanoseconds: $0) }
    }

    /// Runs every due timer whose previous run has finished; a timer still waiting in `call()` skips a tick.
    func fireDueTimers() {
        let now = DispatchTime.now().uptimeNanoseconds
        for index in timers.indices where index < timers.count && timers[index].next <= now {
            let period = timers[index].period
            timers[index].next += period
            if timers[index].next <= now { timers[index].next = now + period }
            guard !timers[index].busy else { continue }
            timers[index].busy = true
            let id = timers[index].id
            spawn(timers[index].handler, pushArguments: { _ in 0 }, onFinish: { runtime, _ in
                if let index = runtime.timers.firstIndex(where: { $0.id == id }) { runtime.timers[index].busy = false }
            })
        }
    }

    // MARK: - Decisions

    /// Runs the `on_request` handlers of `action` in order until one decides, then writes the answer tags.
    func decide(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
        let handlers = requestHandlers[action] ?? []
        decide(handlers: handlers[...], action: action, chargePoint: chargePoint, number: number, payload: payload)
    }

    private func decide(
        handlers: ArraySlice<Handler>, action: String, chargePoint: String, number: Int64, payload: JSONValue
    ) {
        guard let handler = handlers.first else { return }
        spawn(handler, pushArguments: { stack in
            stack.push(chargePoint)
            if !stack.push(payload) { lua_pushnil(stack.L) }
            return 2
        }, onFinish: { runtime, results in
            if let results, results.count > 0,
                let answer = runtime.answer(in: results.thread, at: -results.count, file: handler.file)
            {
                runtime.write(answer, action: action, chargePoint: chargePoint, number: number)
            } else {
                runtime.decide(handlers: handlers.dropFirst(), action: action, chargePoint: chargePoint,
                               number: number, payload: payload)
            }
        })
    }

    struct Answer {
        var status: String
        var expiryDate: String?
        var parentIdTag: String?
        var data: String?
    }

    /// The decision a handler returned (a status string or a table), nil for nil or an invalid value.
    private func answer(in thread: OpaquePointer, at index: Int32, file: String) -> Answer? {
        let stack = LuaStack(thread)
        switch stack.type(at: index) {
        case LUA_TNIL:
            return nil
        case LUA_TSTRING:
            return stack.string(at: index).map { Answer(status: $0) }
        case LUA_TTABLE:
            guard let status = stack.stringField("status", tableAt: index).value else {
                report(file: file, message: "on_request handler returned a table without a string 'status'", traceback: nil)
                return nil
            }
            var answer = Answer(status: status)
            answer.expiryDate = stack.stringField("expiryDate", tableAt: index).value
            answer.parentIdTag = stack.stringField("parentIdTag", tableAt: index).value
            let table = lua_absindex(thread, index)
            stack.push("data")
            lua_rawget(thread, table)
            switch stack.type(at: -1) {
            case LUA_TNIL: break
            case LUA_TSTRING: answer.data = stack.string(at: -1)
            default:
                if case .success(let json) = stack.json(at: -1) { answer.data = json.jsonText }
            }
            clua_pop(thread, 1)
            return answer
        default:
            report(file: file, message: "on_request handler returned a \(stack.typeName(at: index)); expected a status string, a table or nil", traceback: nil)
            return nil
        }
    }

    /// Writes the answer through the tag handshake: Status, the extras, then Response = number, in one batch.
    private func write(_ answer: Answer, action: String, chargePoint: String, number: Int64) {
        let prefix = "\(chargePoint).\(action)."
        var writes: [(name: String, value: TagValue)] = [(prefix + "Status", .string(answer.status))]
        if let expiryDate = answer.expiryDate { writes.append((prefix + "ExpiryDate", .string(expiryDate))) }
        if let parentIdTag = answer.parentIdTag { writes.append((prefix + "ParentIdTag", .string(parentIdTag))) }
        if let data = answer.data { writes.append((prefix + "ResponseData", .string(data))) }
        writes.append((prefix + "Response", .int(number)))
        core.host.writeTags(writes)
    }
}
