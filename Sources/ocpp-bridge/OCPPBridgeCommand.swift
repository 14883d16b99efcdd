import ArgumentParser

struct OCPPBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-bridge",
        abstract: "An OCPP-J bridge for SCADA: charge points in, SQLite tags and a REST API out.",
        subcommands: [Serve.self, ChargePointCommand.self],
        defaultSubcommand: Serve.self)
}
