import Foundation
import OCPP201
import OCPPRPC
import Testing

@testable import Bridge

/// The pieces of the 2.0.1 Central System that need no socket: meter readings in Wh, the idTokenInfo of a
/// decision, the 1.6 names scripts get.
@Suite struct CentralSystem201Tests {
    static let time = Date(timeIntervalSince1970: 1_800_000_000)

    func sample(_ value: Double, _ context: String? = nil, measurand: String? = nil, phase: String? = nil, unit: String? = nil, multiplier: Int? = nil) -> SampledValue {
        SampledValue(
            value: value, context: context.map(ReadingContextEnum.init(rawValue:)), measurand: measurand.map(MeasurandEnum.init(rawValue:)),
            phase: phase.map(PhaseEnum.init(rawValue:)),
            unitOfMeasure: unit == nil && multiplier == nil ? nil : UnitOfMeasure(unit: unit, multiplier: multiplier))
    }

    @Test func theEnergyRegisterIsInWattHours() {
        #expect([MeterValue(sampledValue: [sample(1234.4)], timestamp: Self.time)].energyRegister(for: .updated) == 1234)
        #expect([MeterValue(sampledValue: [sample(12.5, unit: "kWh")], timestamp: Self.time)].energyRegister(for: .updated) == 12_500)
        #expect([MeterValue(sampledValue: [sample(7, unit: "Wh", multiplier: 3)], timestamp: Self.time)].energyRegister(for: .updated) == 7_000)
        #expect([MeterValue(sampledValue: [sample(3, unit: "kWh", multiplier: -1)], timestamp: Self.time)].energyRegister(for: .updated) == 300)
    }

    @Test func theEventsOwnContextWinsAndPhasesAndOtherMeasurandsAreSkipped() {
        let values = [
            MeterValue(sampledValue: [
                sample(100, "Transaction.Begin"), sample(999, "Sample.Periodic"),
                sample(5, "Transaction.Begin", phase: "L1"), sample(16, "Transaction.Begin", measurand: "Current.Import"),
            ], timestamp: Self.time),
            MeterValue(sampledValue: [sample(250, "Transaction.End")], timestamp: Self.time),
        ]
        #expect(values.energyRegister(for: .started) == 100)
        #expect(values.energyRegister(for: .ended) == 250)
        #expect(values.energyRegister(for: .updated) == 999)
        let onlyOthers = [MeterValue(sampledValue: [sample(16, measurand: "Current.Import"), sample(4, phase: "L2")], timestamp: Self.time)]
        #expect(onlyOthers.energyRegister(for: .started) == nil)
        #expect([MeterValue(sampledValue: [sample(.infinity)], timestamp: Self.time)].energyRegister(for: .started) == nil)
    }

    @Test func aDecisionBecomesAnIdTokenInfoThatPassesTheSchema() throws {
        var decision = DecisionHandshake.Decision(status: "NotAtThisTime", data: nil, timedOut: false)
        #expect(decision.idTokenInfo == ["status": "NotAtThisTime"])
        decision.expiryDate = Self.time
        decision.parentIdTag = String(repeating: "G", count: 36)
        let info = decision.idTokenInfo
        #expect(info["cacheExpiryDateTime"] == .string(OCPPDateTime.format(Self.time)))
        #expect(info["groupIdToken"] == ["idToken": .string(String(repeating: "G", count: 36)), "type": "Central"])
        _ = try IdTokenInfo(json: info)
        try #require(OCPP201Actions.descriptor(for: "TransactionEvent")).validateResponse(["idTokenInfo": info])
    }

    @Test func scriptsGetThe16NamesWithoutLosingThe201Ones() {
        let payload: JSONValue = ["idToken": ["idToken": "A1", "type": "ISO14443"], "idTag": "kept"]
        let neutral = payload.withNeutralKeys(["idTag": "A1", "connectorId": 2])
        #expect(neutral["idTag"] == "kept", "a member the payload has is never overwritten")
        #expect(neutral["connectorId"] == 2)
        #expect(neutral["idToken"]?["idToken"] == "A1")
        #expect(JSONValue.array([]).withNeutralKeys(["idTag": "x"]) == .array([]))
    }

    @Test func the201KindsAllowThe201StatusesAndLongerGroups() {
        #expect(DecisionHandshake.Kind.authorize201.allowed.contains("NotAtThisLocation"))
        #expect(!DecisionHandshake.Kind.authorize.allowed.contains("NotAtThisLocation"))
        #expect(DecisionHandshake.Kind.startTransaction201.parentIdTagLimit == 36)
        #expect(DecisionHandshake.Kind.startTransaction.parentIdTagLimit == 20)
        #expect(DecisionHandshake.Kind.stopTransaction201.defaultStatus == "Accepted")
    }
}
