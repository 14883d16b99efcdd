import OCPPRPC

/// The bridge's CALLs to one charge point: at most one in flight, the rest waiting in order (OCPP-J §4.1.1).
///
/// A plain state machine with no I/O: each mutating method returns the CALL to put on the wire next, if any.
package struct OutgoingCallQueue: Sendable {
    /// One CALL the bridge sends.
    package struct Call: Sendable, Hashable {
        package var id: String
        package var action: String
        package var payload: JSONValue

        package init(id: String, action: String, payload: JSONValue) {
            self.id = id
            self.action = action
            self.payload = payload
        }

        package var frame: RPCMessage { .call(id: id, action: action, payload: payload) }
    }

    package private(set) var inFlight: Call?
    private var waiting: [Call] = []
    private var head = 0

    package init() {}

    /// Calls not yet answered, the one in flight included.
    package var count: Int { (inFlight == nil ? 0 : 1) + waiting.count - head }

    /// Adds a call; returns it if it may be sent at once.
    package mutating func enqueue(_ call: Call) -> Call? {
        if inFlight == nil {
            inFlight = call
            return call
        }
        waiting.append(call)
        return nil
    }

    /// An answer arrived for `id`. Returns the completed call (nil if `id` is not the call in flight:
    /// a late or unknown answer, to be logged and dropped) and the next call to send.
    package mutating func complete(id: String) -> (completed: Call?, next: Call?) {
        guard let current = inFlight, current.id == id else { return (nil, nil) }
        inFlight = nil
        return (current, advance())
    }

    /// Gives up on `id` (timed out or cancelled), in flight or waiting. Returns whether it was
    /// found and the next call to send.
    package mutating func cancel(id: String) -> (found: Bool, next: Call?) {
        if let current = inFlight, current.id == id {
            inFlight = nil
            return (true, advance())
        }
        if let index = waiting[head...].firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index)
            return (true, nil)
        }
        return (false, nil)
    }

    /// Removes every call (the connection closed); returns them to be failed.
    package mutating func drain() -> [Call] {
        var all: [Call] = []
        if let current = inFlight { all.append(current) }
        all.append(contentsOf: waiting[head...])
        inFlight = nil
        waiting = []
        head = 0
        return all
    }

    private mutating func advance() -> Call? {
        guard head < waiting.count else {
            waiting.removeAll(keepingCapacity: true)
            head = 0
            return nil
        }
        let next = waiting[head]
        head += 1
        if head > 64, head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        inFlight = next
        return next
    }
}
