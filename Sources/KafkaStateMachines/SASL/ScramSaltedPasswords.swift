/// SCRAM's salted passwords (Hi(password, salt, i), thousands of HMACs) already derived, by
/// what determines them, so re-authentication and further connections to brokers that
/// send the same salt skip the key derivation. The engine keeps one; each connection a copy.
/// Bounded: a server sending a fresh salt every time must not grow it without limit.
package struct ScramSaltedPasswords: Sendable {
    public struct Key: Hashable, Sendable {
        var algorithm: ScramAlgorithm
        var username: String
        var salt: [UInt8]
        var iterations: Int
    }

    public struct Entry: Sendable {
        var key: Key
        var saltedPassword: [UInt8]
    }

    public static let capacity = 8
    /// Oldest first; a handful at most, so a linear search is the cheapest lookup.
    private var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }

    func lookup(_ key: Key) -> [UInt8]? {
        entries.last { $0.key == key }?.saltedPassword
    }

    mutating func remember(_ entry: Entry) {
        entries.removeAll { $0.key == entry.key }
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }
}
