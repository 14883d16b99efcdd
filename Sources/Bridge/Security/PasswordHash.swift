import Crypto
import Foundation

/// Basic-auth passwords as the bridge stores them: SHA-256 over a 16-byte random salt and the password's
/// bytes. OCPP passwords are machine-generated secrets of 16 to 40 characters, too long to guess, so a
/// salted fast hash keeps a stolen database from revealing them without slowing the WebSocket upgrade,
/// which checks them synchronously (docs/security.md).
public enum PasswordHash {
    /// The lengths OCPP allows for a Basic-auth password (1.6 security whitepaper, 2.0.1 `BasicAuthPassword`).
    public static let allowedLengths = 16...40

    /// A new salt and the hash of `password` with it.
    public static func make(_ password: some Collection<UInt8>) -> (salt: [UInt8], hash: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return (salt, hash(password, salt: salt))
    }

    /// Whether `password` is the one hashed to `hash` with `salt`; compares in constant time.
    public static func verify(_ password: some Collection<UInt8>, salt: [UInt8], hash expected: [UInt8]) -> Bool {
        constantTimeEqual(hash(password, salt: salt), expected)
    }

    /// Whether two secrets are equal, in a time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// A random password of `length` characters from letters and digits (the `--generate-password` of the
    /// `chargepoint` command).
    public static func generate(length: Int = 24) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func hash(_ password: some Collection<UInt8>, salt: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(password))
        return Array(hasher.finalize())
    }
}
