import ArgumentParser

@main
struct OCPPBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ocpp-bridge")
    func run() async throws {}
}
