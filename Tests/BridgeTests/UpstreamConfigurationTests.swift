import Testing

@testable import Bridge

@Suite struct UpstreamConfigurationTests {
    @Test(arguments: [
        ("*", "CP1", true), ("CP*", "CP1", true), ("CP*", "XCP1", false), ("*-north", "garage-north", true),
        ("garage-*-A", "garage-7-A", true), ("garage-*-A", "garage-7-B", false), ("CP1", "CP1", true), ("CP1", "CP10", false),
        ("a*b*c", "aXbYc", true), ("a*b*c", "acb", false),
    ])
    func chargePointPatterns(pattern: String, id: String, expected: Bool) {
        var upstream = UpstreamConfiguration(name: "u", url: "ws://x")
        upstream.chargePoints = [pattern]
        #expect(upstream.serves(id) == expected)
    }

    @Test func secondariesMayOnlyReadByDefault() {
        var upstream = UpstreamConfiguration(name: "u", url: "ws://x")
        #expect(upstream.allows("Reset", isPrimary: true))
        #expect(!upstream.allows("Reset", isPrimary: false))
        #expect(upstream.allows("GetConfiguration", isPrimary: false))
        upstream.allowedActions = ["Reset"]
        #expect(upstream.allows("Reset", isPrimary: false))
        #expect(!upstream.allows("GetConfiguration", isPrimary: true))
    }

    @Test func routesFollowTheUpstream() {
        var policy = RoutingPolicy()
        #expect(policy.route(for: "Authorize", hasUpstream: false) == .tags)
        #expect(policy.route(for: "Authorize", hasUpstream: true) == .forward)
        #expect(policy.route(for: "Heartbeat", hasUpstream: true) == .local)
        policy.routes["Authorize"] = .tags
        #expect(policy.route(for: "Authorize", hasUpstream: true) == .tags)
    }
}
