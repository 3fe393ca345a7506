/// The compression codec of a record batch or legacy wrapper message (attribute bits 0-2).
public enum CompressionCodec: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// The codec for an attributes' codec bits; an unknown id is a typed error at `offset`.
    public init(id: Int, field: StaticString = "attributes.codec", offset: Int = 0) throws(KafkaDecodingError) {
        guard id >= 0, id <= 255, let c = CompressionCodec(rawValue: UInt8(id)) else {
            throw KafkaDecodingError(field: field.description, offset: offset, kind: .unknownCodec(id))
        }
        self = c
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}
