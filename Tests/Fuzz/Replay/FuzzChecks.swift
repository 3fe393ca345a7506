import KafkaProtocol

/// What each fuzz target does with one input. The same checks run under libFuzzer
/// (Tests/Fuzz/Harness, a copy of this file) and in `swift test` over the committed corpus
/// and past crashes. A decoder may reject any input with a typed error; what it must never
/// do is trap, hang, or accept bytes that it then cannot reproduce.
enum FuzzChecks {
    /// Input: api key (int16), version (int16), then a request body.
    static func request(_ input: [UInt8]) {
        guard let (key, version, body) = split(input) else { return }
        var r = ByteReader(input, range: body)
        guard let decoded = try? decodeRequest(apiKey: key, version: version, from: &r) else { return }
        reencodes(decoded, version: version)
    }

    /// Input: api key (int16), version (int16), then a response body.
    static func response(_ input: [UInt8]) {
        guard let (key, version, body) = split(input) else { return }
        var r = ByteReader(input, range: body)
        guard let decoded = try? decodeResponse(apiKey: key, version: version, from: &r) else { return }
        reencodes(decoded, version: version)
    }

    /// Input: a partition's records bytes (any mix of v2 batches and magic 0/1 messages),
    /// decoded with CRC checks off (so mutations reach the payload decoders) and then on.
    static func records(_ input: [UInt8]) {
        let contexts = CompressionContexts()
        for verify in [false, true] {
            let options = RecordDecodingOptions(verifyCRC: verify, decompressionLimit: DecompressionLimit(maxOutputBytes: 4 << 20))
            var reader = RecordsReader(input, options: options, contexts: contexts)
            var total = 0
            while let batch = try? reader.next() {
                for record in batch.records {
                    total &+= record.key?.count ?? 0
                    total &+= record.value?.count ?? 0
                    for h in record.headers { total &+= h.key.count &+ (h.value?.count ?? 0) }
                }
            }
            precondition(total >= 0)
        }
    }

    private static func split(_ input: [UInt8]) -> (ApiKey, Int16, Range<Int>)? {
        guard input.count >= 4 else { return nil }
        let key = Int16(bitPattern: UInt16(input[0]) << 8 | UInt16(input[1]))
        let version = Int16(bitPattern: UInt16(input[2]) << 8 | UInt16(input[3]))
        return (ApiKey(key), version, 4 ..< input.count)
    }

    /// Whatever decoded must encode, and encoding must be stable: encode → decode → encode
    /// gives the same bytes (bytes, not values, so a NaN float64 compares equal to itself).
    private static func reencodes<M: KafkaMessage>(_ m: M, version: Int16) {
        let first: [UInt8]
        do { first = try m.encoded(version: version) } catch {
            fatalError("\(M.messageName) v\(version) decoded but does not re-encode: \(error)")
        }
        let second: [UInt8]
        do { second = try M.decode(first, version: version).encoded(version: version) } catch {
            fatalError("\(M.messageName) v\(version) re-encoded bytes do not decode: \(error)")
        }
        precondition(first == second, "\(M.messageName) v\(version) encoding is not stable")
    }
}
