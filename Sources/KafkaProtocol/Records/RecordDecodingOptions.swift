/// How the records reader checks and bounds what it decodes.
public struct RecordDecodingOptions: Sendable, Equatable {
    /// Verify each batch's CRC-32C (magic 2) or each message's CRC-32 (magic 0/1).
    public var verifyCRC: Bool
    /// The most bytes one batch's (or wrapper message's) payload may decompress to.
    public var decompressionLimit: DecompressionLimit

    public init(verifyCRC: Bool = true, decompressionLimit: DecompressionLimit = .default) {
        self.verifyCRC = verifyCRC
        self.decompressionLimit = decompressionLimit
    }
}
