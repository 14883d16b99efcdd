import Foundation
import NIOSSL

/// A throwaway self-signed certificate for `localhost` and 127.0.0.1, made by the `openssl` command; shared by
/// the test targets that run TLS.
public struct SelfSignedCertificate: Sendable {
    public let certificate: NIOSSLCertificate
    public let key: NIOSSLPrivateKey

    public static let opensslPath = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs `openssl` on a dedicated thread, so no cooperative-pool thread waits on the process.
    public static func make() async throws -> SelfSignedCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyPath = directory.appendingPathComponent("key.pem").path
        let certPath = directory.appendingPathComponent("cert.pem").path
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: opensslPath ?? "/usr/bin/openssl")
                process.arguments = [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                ]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                do {
                    try process.run()
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationStatus)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
        guard status == 0 else { throw CocoaError(.fileReadUnknown) }
        guard let certificate = try NIOSSLCertificate.fromPEMFile(certPath).first else { throw CocoaError(.fileReadCorruptFile) }
        return SelfSignedCertificate(
            certificate: certificate,
            key: try NIOSSLPrivateKey(file: keyPath, format: .pem))
    }

    public func serverContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
    }

    public func clientConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([certificate])
        return configuration
    }
}
