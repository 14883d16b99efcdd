import Foundation
import NIOSSL
import X509

/// The PEM files of a TLS listener (docs/security.md): its certificate chain and key, and for mutual TLS
/// (security profile 3) the CA that signs the charge points' certificates.
public struct TLSFiles: Sendable, Hashable {
    /// The server's certificate chain, leaf first (PEM).
    public var certificate: String
    /// The server's private key (PEM).
    public var key: String
    /// The CA certificates client certificates must chain to (PEM); nil: no client certificate is asked for.
    public var clientCA: String?

    public init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }

    /// A file that cannot be used, named with the setting that names it.
    public struct LoadError: Error, CustomStringConvertible {
        public var setting: String
        public var path: String
        public var reason: String
        public var description: String { "\(setting): cannot use '\(path)': \(reason)" }
    }

    /// The server's TLS configuration: TLS 1.2 or later (OCPP's security profiles require it); with a client CA,
    /// a client certificate signed by it is required.
    /// - Parameter prefix: the settings' name in error messages, e.g. `ocpp.tls`.
    public func serverConfiguration(prefix: String) throws(LoadError) -> TLSConfiguration {
        let chain = try load("\(prefix).certificate", certificate) { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else { throw LoadError(setting: "\(prefix).certificate", path: certificate, reason: "no certificate in the file") }
        let privateKey = try load("\(prefix).key", key) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration: TLSConfiguration
        if let clientCA {
            let roots = try load("\(prefix).clientCA", clientCA) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw LoadError(setting: "\(prefix).clientCA", path: clientCA, reason: "no certificate in the file") }
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey), trustRoots: .certificates(roots))
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        }
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    private func load<T>(_ setting: String, _ path: String, _ body: (String) throws -> T) throws(LoadError) -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw LoadError(setting: setting, path: path, reason: "no readable file there")
        }
        do {
            return try body(path)
        } catch {
            throw LoadError(setting: setting, path: path, reason: "not a PEM file of the right kind (\(error))")
        }
    }
}

extension NIOSSLCertificate {
    /// The subject's common name (the last one, if several), which names the charge point under security
    /// profile 3; nil if the certificate has none.
    var subjectCommonName: String? {
        guard let der = try? toDERBytes(), let certificate = try? Certificate(derEncoded: der) else { return nil }
        var name: String?
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .NameAttributes.commonName {
                name = attribute.value.description
            }
        }
        return name
    }
}
