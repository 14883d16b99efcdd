import Foundation
import OCPPRPC
import Synchronization

/// What the bridge knows of a charge point, connected or not.
public struct ChargePointInfo: Sendable, Hashable {
    public var id: String
    public var online: Bool
    public var version: OCPPVersion?
    public var connectedSince: Date?
    public var lastSeen: Date?
}

/// Every charge point seen since start, and the live session of each connected one.
///
/// A new connection with the same id replaces the old one (chargers reconnect before the server notices
/// that the old TCP connection died; refusing the newcomer causes reconnect loops).
public final class ChargePointRegistry: Sendable {
    private struct State {
        var sessions: [String: ChargePointSession] = [:]
        var info: [String: ChargePointInfo] = [:]
        var nextConnection: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A number for the next connection, unique in this process.
    public func nextConnectionNumber() -> UInt64 {
        state.withLock { state in
            state.nextConnection += 1
            return state.nextConnection
        }
    }

    /// Registers a charge point known from an earlier run (offline until it connects).
    public func remember(_ id: String, version: OCPPVersion?, lastSeen: Date?) {
        state.withLock { state in
            if state.info[id] == nil {
                state.info[id] = ChargePointInfo(id: id, online: false, version: version, connectedSince: nil, lastSeen: lastSeen)
            }
        }
    }

    /// Makes `session` the live one for its charge point; returns the session it replaces, if any.
    public func register(_ session: ChargePointSession) -> ChargePointSession? {
        state.withLock { state in
            let old = state.sessions.updateValue(session, forKey: session.chargePointId)
            state.info[session.chargePointId] = ChargePointInfo(
                id: session.chargePointId, online: true, version: session.version,
                connectedSince: session.connectedSince, lastSeen: Date())
            return old
        }
    }

    /// Removes `session` if it is still the live one; returns whether the charge point went offline.
    public func unregister(_ session: ChargePointSession) -> Bool {
        state.withLock { state in
            guard let current = state.sessions[session.chargePointId],
                current.connectionNumber == session.connectionNumber
            else { return false }
            state.sessions[session.chargePointId] = nil
            state.info[session.chargePointId]?.online = false
            state.info[session.chargePointId]?.connectedSince = nil
            return true
        }
    }

    /// Notes traffic from a charge point.
    public func touch(_ id: String, at date: Date = Date()) {
        state.withLock { state in state.info[id]?.lastSeen = date }
    }

    /// The live session of a charge point, if it is connected.
    public func session(_ id: String) -> ChargePointSession? {
        state.withLock { $0.sessions[id] }
    }

    /// Every live session.
    public var sessions: [ChargePointSession] {
        state.withLock { Array($0.sessions.values) }
    }

    /// One charge point, if it was ever seen.
    public func info(_ id: String) -> ChargePointInfo? {
        state.withLock { $0.info[id] }
    }

    /// Every charge point seen, sorted by id.
    public var all: [ChargePointInfo] {
        state.withLock { $0.info.values.sorted { $0.id < $1.id } }
    }
}
