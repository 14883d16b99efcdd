/// An `on_change` pattern: `*` matches any run of characters (dots included), everything else itself.
struct TagPattern: Sendable, Hashable {
    /// The pattern as the script wrote it.
    let text: String
    /// The literal pieces between the stars.
    private let pieces: [[UInt8]]
    /// Whether the pattern has no star (then `pieces` holds the whole name).
    private let exact: Bool

    init(_ text: String) {
        self.text = text
        let parts = text.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false)
        pieces = parts.map(Array.init)
        exact = parts.count == 1
    }

    /// Whether `name` matches the pattern.
    func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if exact { return bytes.elementsEqual(pieces[0]) }
        let first = pieces[0]
        let last = pieces[pieces.count - 1]
        guard bytes.count >= first.count + last.count else { return false }
        guard bytes.starts(with: first) else { return false }
        guard bytes[(bytes.count - last.count)...].elementsEqual(last) else { return false }
        // Middle pieces, leftmost match each, between the prefix and the suffix.
        var position = first.count
        let end = bytes.count - last.count
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = Self.find(piece, in: bytes, from: position, to: end) else { return false }
            position = found + piece.count
        }
        return true
    }

    private static func find(_ piece: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, to end: Int) -> Int? {
        guard end - from >= piece.count else { return nil }
        var i = from
        while i + piece.count <= end {
            if bytes[i] == piece[0] && bytes[i..<(i + piece.count)].elementsEqual(piece) { return i }
            i += 1
        }
        return nil
    }
}

/// The compiled `on_change` patterns and `on_request` actions of the current scripts, read from any thread
/// so that `tagsChanged` and `decisionRequested` drop uninteresting events before queueing anything.
struct EventFilter: Sendable {
    var exactNames: Set<String> = []
    var wildcards: [TagPattern] = []
    var actions: Set<String> = []

    mutating func add(_ pattern: TagPattern) {
        if pattern.text.contains("*") {
            if !wildcards.contains(pattern) { wildcards.append(pattern) }
        } else {
            exactNames.insert(pattern.text)
        }
    }

    var isEmpty: Bool { exactNames.isEmpty && wildcards.isEmpty }

    func matches(_ name: String) -> Bool {
        if exactNames.contains(name) { return true }
        if wildcards.isEmpty { return false }
        var name = name
        return name.withUTF8 { bytes in wildcards.contains { $0.matches(bytes: bytes) } }
    }
}
