/// A tagged field this library's schema does not know: kept with its raw body so that
/// decoding and re-encoding a message preserves it byte for byte.
public struct TaggedField: Hashable, Sendable {
    public var tag: UInt32
    public var data: [UInt8]

    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }
}
