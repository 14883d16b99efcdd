import Logging
import TagStore
import Testing

@testable import Bridge

@Suite struct BridgeStartTests {
    @Test func aRestartListsKnownChargePointsOfflineAndNothingElse() async throws {
        let logger = Logger(label: "test")
        let store = try TagStore.temporary(logger: logger)
        store.write([
            TagWrite(name: "CP1.Online", value: .bool(true)),
            TagWrite(name: "CP1.Protocol", value: .string("ocpp1.6")),
            TagWrite(name: "CP1.LastSeen", value: .string("2026-01-01T00:00:00.000Z")),
            TagWrite(name: "CP1.Upstream.primary.Online", value: .bool(true)),
            TagWrite(name: "Pump.Online", value: .bool(true), access: .readWrite),
        ])
        let bridge = Bridge(configuration: BridgeConfiguration(), store: store, mapping: TagMapping(), logger: logger)
        #expect(bridge.registry.all.map(\.id) == ["CP1"])
        #expect(bridge.registry.info("CP1")?.online == false)
        #expect(bridge.registry.info("CP1")?.lastSeen != nil)
        #expect(store.value("CP1.Online") == .bool(false))
        #expect(store.value("CP1.Upstream.primary.Online") == .bool(false))
        #expect(store.value("Pump.Online") == .bool(true), "a user's tag is not the bridge's to reset")
        await store.close()
    }
}
