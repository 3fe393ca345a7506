/// A decoder's failure: which message, which field, at which byte offset, and why.
/// Decoders return this for every malformed input; they never trap.
public struct KafkaDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The input ended; `needed` more bytes were wanted where `available` remained.
        case truncated(needed: Int, available: Int)
        /// A length prefix below -1 (or -1 where null is not allowed for lengths).
        case negativeLength(Int)
        /// A length or count larger than the bytes that remain.
        case lengthPastEnd(length: Int, available: Int)
        /// A varint longer than its type allows.
        case varintTooLong
        /// A null where the field is not nullable in this version.
        case unexpectedNull
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A version the message does not define.
        case unsupportedVersion(Int16)
        /// An API key this library does not know.
        case unknownApiKey(Int16)
        /// Bytes left over where a structure should have ended.
        case trailingBytes(Int)
        /// A checksum mismatch (CRC-32C for v2 batches, CRC-32 for legacy messages).
        case badCRC(expected: UInt32, actual: UInt32)
        /// A compression codec id this library does not know.
        case unknownCodec(Int)
        /// Decompressed output would exceed the configured limit.
        case decompressionLimitExceeded(limit: Int)
        /// The compressed payload could not be decompressed.
        case corruptCompressedData(String)
        /// A value outside the range the field allows (e.g. a record batch magic of 7).
        case invalidValue(String)
    }

    /// The message or structure being decoded ("ProduceRequest v9", "RecordBatch").
    public var message: String
    /// The field path within it ("topicData.partitionData.records").
    public var field: String
    /// Absolute byte offset in the input where the failing read started.
    public var offset: Int
    public var kind: Kind
    /// For errors inside a record batch or legacy message: its base offset (the first
    /// offset field), so a consumer can name the topic/partition/offset that failed.
    public var baseOffset: Int64?

    public init(message: String = "", field: String, offset: Int, kind: Kind, baseOffset: Int64? = nil) {
        self.message = message
        self.field = field
        self.offset = offset
        self.kind = kind
        self.baseOffset = baseOffset
    }

    public var description: String {
        let where_ = message.isEmpty ? field : "\(message).\(field)"
        let batch = baseOffset.map { " (batch base offset \($0))" } ?? ""
        return "cannot decode \(where_) at byte \(offset)\(batch): \(kind)"
    }

    /// Adds the message name when the error passes out of a message's decoder.
    @inlinable public func inMessage(_ name: String) -> KafkaDecodingError {
        var e = self
        if e.message.isEmpty { e.message = name }
        return e
    }
}

/// An encoder's refusal: the value cannot be represented in the chosen version.
public struct KafkaEncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The field holds a non-default value but does not exist in this version and is
        /// not ignorable: sending would silently change the request's meaning.
        case fieldNotInVersion(Int16)
        /// A null in a field that is not nullable in this version.
        case nullNotAllowed(Int16)
        /// A version the message does not define.
        case unsupportedVersion(Int16)
        /// A string or byte array too long for its length prefix.
        case valueTooLong(Int)
        /// A value the format cannot carry (e.g. too many records in a batch).
        case invalidValue(String)
    }

    public var message: String
    public var field: String
    public var kind: Kind

    public init(message: String, field: String, kind: Kind) {
        self.message = message
        self.field = field
        self.kind = kind
    }

    public var description: String {
        "cannot encode \(message.isEmpty ? field : "\(message).\(field)"): \(kind)"
    }

    @inlinable public func inField(_ message: String, _ field: String) -> KafkaEncodingError {
        var e = self
        if e.message.isEmpty { e.message = message }
        if e.field.isEmpty { e.field = field }
        return e
    }
}
