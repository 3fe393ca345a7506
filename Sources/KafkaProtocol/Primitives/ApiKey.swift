/// A Kafka API key. A struct rather than an enum so that a key this library does not know
/// (a newer broker's) is still representable. The named constants, names and version
/// ranges are generated (`Generated/ApiKeys.swift`).
public struct ApiKey: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public init(_ rawValue: Int16) { self.rawValue = rawValue }
    public static func < (a: ApiKey, b: ApiKey) -> Bool { a.rawValue < b.rawValue }
    /// The API name ("Produce"), or "Unknown(N)"; the names are generated.
    public var description: String { name }
}
