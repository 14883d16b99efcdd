import Testing
import Bridge

/// A deterministic generator (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct ReconnectBackoffTests {
    @Test func doublesUpToTheCapWithoutJitter() {
        var backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(60), multiplier: 2, jitter: 0)
        var generator = SeededGenerator(state: 1)
        let delays = (0..<9).map { _ in backoff.nextDelay(using: &generator) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
        backoff.reset()
        #expect(backoff.nextDelay(using: &generator) == .seconds(1))
    }

    @Test func jitterStaysWithinBoundsAndUnderTheCap() {
        var backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(60), multiplier: 2, jitter: 0.2)
        var generator = SeededGenerator(state: 42)
        var base = 1.0
        var sawJitter = false
        for _ in 0..<200 {
            let delay = backoff.nextDelay(using: &generator)
            let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            #expect(seconds >= base * 0.8 - 1e-6)
            #expect(seconds <= min(base * 1.2, 60) + 1e-6)
            if abs(seconds - base) > 1e-3 { sawJitter = true }
            base = min(base * 2, 60)
        }
        #expect(sawJitter)
    }

    @Test func sameSeedSameSequence() {
        func run() -> [Duration] {
            var backoff = ReconnectBackoff()
            var generator = SeededGenerator(state: 7)
            return (0..<12).map { _ in backoff.nextDelay(using: &generator) }
        }
        #expect(run() == run())
    }

    @Test func clampsNonsenseArguments() {
        var backoff = ReconnectBackoff(initial: .seconds(5), maximum: .seconds(1), multiplier: 0.5, jitter: 3)
        var generator = SeededGenerator(state: 3)
        for _ in 0..<20 {
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= .zero)
            #expect(delay <= .seconds(5))
        }
    }
}
