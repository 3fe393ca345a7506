/// How the records reader checks and bounds what it decodes.
public struct RecordDecodingOptions: Sendable, Equatable {
    /// Verify each batch's CRC-32C (magic 2) or each message's CRC-32 (magic 0/1).
    public var verifyCRC: Bool
    /// The most bytes one batch's (or wrapper message's) payload may decompress to.
    public var decompressionLimit: DecompressionLimit
    /// The most bytes all batches read by one `RecordsReader` may decompress to together:
    /// without it, many small bombs, each under the per-batch limit, would still add up to
    /// gigabytes held by the decoded records.
    public var totalDecompressionLimit: DecompressionLimit

    public init(verifyCRC: Bool = true, decompressionLimit: DecompressionLimit = .default,
                totalDecompressionLimit: DecompressionLimit = DecompressionLimit(maxOutputBytes: 1 << 30)) {
        self.verifyCRC = verifyCRC
        self.decompressionLimit = decompressionLimit
        self.totalDecompressionLimit = totalDecompressionLimit
    }
}
