import Testing

@testable import Bridge

@Suite struct MessageBudgetTests {
    func budget(rate: Double, burst: Int) -> MessageBudget {
        var limits = SessionLimits()
        limits.messagesPerSecond = rate
        limits.burst = burst
        return MessageBudget(limits: limits)
    }

    @Test func aBurstPassesThenTheRateHolds() {
        var budget = budget(rate: 10, burst: 5)
        #expect((0..<5).map { _ in budget.spend(at: 0) } == Array(repeating: .accept, count: 5))
        #expect(budget.spend(at: 0) == .refuse)
        // 0.1 s later one token is back.
        #expect(budget.spend(at: 0.1) == .accept)
        #expect(budget.spend(at: 0.1) == .refuse)
        // Long idle refills to the burst, no more.
        #expect((0..<5).map { _ in budget.spend(at: 100) } == Array(repeating: .accept, count: 5))
        #expect(budget.spend(at: 100) == .refuse)
    }

    @Test func aSteadySenderAtTheRateIsNeverRefused() {
        var budget = budget(rate: 50, burst: 1)
        for n in 0..<1_000 { #expect(budget.spend(at: Double(n) / 50) == .accept) }
    }

    @Test func aFloodIsDisconnectedAfterBurstRefusalsInOneSecond() {
        var budget = budget(rate: 1, burst: 3)
        for _ in 0..<3 { #expect(budget.spend(at: 0) == .accept) }
        for _ in 0..<3 { #expect(budget.spend(at: 0.5) == .refuse) }
        #expect(budget.spend(at: 0.6) == .disconnect)
        // The count starts again each second.
        #expect(budget.spend(at: 2.0) == .accept)  // refilled by then
        // A sender a little over the rate is refused the excess but stays connected.
        var slow = self.budget(rate: 1, burst: 3)
        for _ in 0..<3 { _ = slow.spend(at: 0) }
        var verdicts: [MessageBudget.Verdict] = []
        for second in 1...5 {
            for _ in 0..<4 { verdicts.append(slow.spend(at: Double(second))) }
        }
        #expect(verdicts.filter { $0 == .accept }.count == 5)
        #expect(verdicts.filter { $0 == .refuse }.count == 15)
        #expect(!verdicts.contains(.disconnect))
    }
}
