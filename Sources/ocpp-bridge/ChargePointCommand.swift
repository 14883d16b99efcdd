import ArgumentParser
import Bridge
import Foundation
import Logging
import OCPPRPC
import TagStore

/// `ocpp-bridge chargepoint`: manages charge point registrations (status and Basic-auth password) in the
/// database, while the bridge runs or not (docs/security.md).
struct ChargePointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chargepoint",
        abstract: "Manage charge point registrations: who may connect, and their Basic-auth passwords.",
        subcommands: [List.self, SetRegistration.self, Remove.self])

    struct DatabaseOptions: ParsableArguments {
        @Option(help: "The SQLite tag database file (default: the configuration's, else data/bridge.sqlite).") var db: String?
        @Option(help: "A YAML configuration file naming the database.") var config: String?

        func open() throws -> TagStore {
            var path = Settings().database
            if let config {
                do { path = try Settings.load(path: config).database } catch { throw ValidationError("\(error)") }
            }
            if let db { path = db }
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no database at '\(path)'") }
            var logger = Logger(label: "ocpp-bridge")
            logger.logLevel = .warning
            return try TagStore(path: path, logger: logger)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registrations.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try database.open()
            let registrations = try await store.registrations()
            await store.close()
            for registration in registrations {
                print("\(registration.chargePoint)\t\(registration.status.rawValue)\t\(registration.hasPassword ? "password" : "-")\t\(OCPPDateTime.format(registration.updatedAt))")
            }
        }
    }

    struct SetRegistration: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Register a charge point, or change its status or password.",
            discussion: "A password is read from standard input (--password-stdin) or made up and printed (--generate-password), never taken from the command line, where other users could read it.")
        @Argument(help: "The charge point id.") var id: String
        @Option(help: "Accepted, Pending or Rejected (default: Accepted for a new registration).") var status: String?
        @Flag(help: "Read the password (16 to 40 characters) from standard input.") var passwordStdin = false
        @Flag(help: "Make up a 24-character password, store it, and print it.") var generatePassword = false
        @Flag(help: "Remove the password.") var clearPassword = false
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard [passwordStdin, generatePassword, clearPassword].filter({ $0 }).count <= 1 else {
                throw ValidationError("give at most one of --password-stdin, --generate-password, --clear-password")
            }
            if let status, Registration.Status(rawValue: status) == nil {
                throw ValidationError("--status must be Accepted, Pending or Rejected")
            }
        }

        func run() async throws {
            var password: String?
            if passwordStdin {
                let line = (readLine(strippingNewline: true) ?? "")
                guard PasswordHash.allowedLengths.contains(line.utf8.count) else {
                    throw ValidationError("the password must have 16 to 40 characters, as OCPP requires")
                }
                password = line
            } else if generatePassword {
                password = PasswordHash.generate()
            }
            let store = try database.open()
            var logger = Logger(label: "ocpp-bridge")
            logger.logLevel = .warning
            let admission = Admission(configuration: SecurityConfiguration(), store: store, logger: logger)
            do {
                let registration = try await admission.update(
                    id, status: status.flatMap(Registration.Status.init(rawValue:)), password: password, clearPassword: clearPassword)
                // The running bridge follows the tag (a new password applies from the next connection).
                store.write(TagWrite(name: "\(id).Registration.Status", value: .string(registration.status.rawValue), access: .readWrite))
                await store.close()
                if generatePassword, let password { print(password) }
                FileHandle.standardError.write(Data("\(id): \(registration.status.rawValue)\(registration.hasPassword ? ", password set" : "")\n".utf8))
            } catch {
                await store.close()
                throw error
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a charge point's registration: it is unknown again.")
        @Argument(help: "The charge point id.") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try database.open()
            let removed = try await store.removeRegistration(of: id)
            await store.close()
            guard removed else { throw ValidationError("'\(id)' has no registration") }
        }
    }
}
