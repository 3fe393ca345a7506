import KafkaProtocol
import KafkaStateMachines

/// The direct consumer's settings, checked when the client is created.
public struct ConsumerConfiguration: Sendable, Equatable {
    /// read_uncommitted (default) returns every record; read_committed only those of
    /// committed transactions, up to the last stable offset.
    public var isolation: IsolationLevel = .readUncommitted
    /// OFFSET_OUT_OF_RANGE: restart at the start or the end, or report an error.
    public var resetPolicy: OffsetResetPolicy = .start
    /// How long a broker may hold a fetch waiting for `minBytes` (Fetch max wait).
    public var maxWait: Duration = .milliseconds(500)
    /// The bytes a broker waits for before it answers a fetch (or `maxWait` passes).
    public var minBytes: Int32 = 1
    /// Per fetch response, and per partition within it.
    public var maxBytes: Int32 = 50 * 1024 * 1024
    /// The most bytes of one partition in one fetch response (at least one batch is returned).
    public var partitionMaxBytes: Int32 = 1024 * 1024
    /// Fetch requests in flight at once across brokers.
    public var maxConcurrentFetches = 16
    /// Fetched but unpolled bytes (as fetched: compressed where the batches are) beyond
    /// which no fetch starts (backpressure).
    public var maxBufferedBytes = 8 * 1024 * 1024
    /// The most decoded bytes one `poll` hands out (one batch at least): fetched batches are
    /// decoded as they are polled, so this bounds decoded memory whatever the codec.
    public var maxPollBytes = 1024 * 1024
    /// Until the consumer's first records arrive, a fetch asks for this much in all (and of
    /// each partition), so they arrive without waiting for megabytes to be read and sent
    /// however many partitions it reads; from then on every partition (a seek or a new
    /// assignment too) asks for `partitionMaxBytes`. A ramp per partition cost a round trip
    /// per doubling for each of many partitions.
    public var firstFetchBytes: Int32 = 64 * 1024
    /// After a connection to a broker is cut while a fetch is in flight, the next fetch there
    /// asks for half as much (in all and per partition), down to this; each answered fetch
    /// doubles it back. A network path that resets after so many bytes would otherwise cut an
    /// answer bigger than that on every attempt, and the consumer would stall. 0: never shrink.
    public var fetchBytesAfterCut: Int32 = 4 * 1024
    /// KIP-227 incremental fetch sessions.
    public var fetchSessions = true
    /// Deliver transaction markers as records too.
    public var keepControlRecords = false
    /// Check each batch's CRC-32C when it is decoded; a mismatch stops the partition with `corruptBatch`.
    public var verifyCRC = true
    /// The most bytes one compressed batch may expand to when polled; a batch past it (a
    /// decompression bomb) stops its partition with `corruptBatch`, which `skip` moves past.
    public var decompressionLimit = 256 * 1024 * 1024
    /// KIP-392: this client's rack, so the leader can point it at a nearby replica.
    public var rack: String? = nil
    /// How often a consumer reading from a follower (KIP-392) asks the leader again which replica to use.
    public var preferredReplicaRecheck: Duration = .seconds(300)
    /// KIP-320: validate positions after leader epoch changes and report truncation.
    public var validateEpochs = true
    /// How often metadata is refreshed to find new topics matching a pattern.
    public var topicRefresh: Duration = .seconds(5)
    /// How long a partition waits before it is retried after an error.
    public var retryBackoff: Duration = .milliseconds(100)

    /// The defaults, as documented on each setting.
    public init() {}

    /// Checks every setting; the first one out of range is the error (`invalidConsumer`).
    public func validate() throws(KafkaConfigurationError) {
        guard minBytes >= 0 else { throw .invalidConsumer("minBytes must be >= 0, got \(minBytes)") }
        guard maxBytes > 0 else { throw .invalidConsumer("maxBytes must be > 0, got \(maxBytes)") }
        guard partitionMaxBytes > 0 else { throw .invalidConsumer("partitionMaxBytes must be > 0, got \(partitionMaxBytes)") }
        guard maxConcurrentFetches > 0 else { throw .invalidConsumer("maxConcurrentFetches must be > 0, got \(maxConcurrentFetches)") }
        guard decompressionLimit > 0 else { throw .invalidConsumer("decompressionLimit must be > 0, got \(decompressionLimit)") }
        guard maxPollBytes > 0 else { throw .invalidConsumer("maxPollBytes must be > 0, got \(maxPollBytes)") }
        guard firstFetchBytes > 0 else { throw .invalidConsumer("firstFetchBytes must be > 0, got \(firstFetchBytes)") }
        guard fetchBytesAfterCut >= 0 else { throw .invalidConsumer("fetchBytesAfterCut must be >= 0, got \(fetchBytesAfterCut)") }
        guard maxBufferedBytes > 0 else { throw .invalidConsumer("maxBufferedBytes must be > 0, got \(maxBufferedBytes)") }
        guard maxWait >= .zero, maxWait <= .milliseconds(Int32.max) else { throw .invalidConsumer("maxWait out of range: \(maxWait)") }
        for (name, d) in [("preferredReplicaRecheck", preferredReplicaRecheck), ("topicRefresh", topicRefresh), ("retryBackoff", retryBackoff)]
            where d < .zero {
            throw .invalidConsumer("\(name) must not be negative, got \(d)")
        }
    }

    var fetcherConfig: FetcherConfig {
        var f = FetcherConfig()
        f.isolation = isolation
        f.resetPolicy = resetPolicy
        f.maxWait = Interval(maxWait)
        f.minBytes = minBytes
        f.maxBytes = maxBytes
        f.partitionMaxBytes = partitionMaxBytes
        f.firstFetchBytes = firstFetchBytes
        f.fetchBytesAfterCut = fetchBytesAfterCut
        f.maxConcurrentFetches = maxConcurrentFetches
        f.maxBufferedBytes = maxBufferedBytes
        f.fetchSessions = fetchSessions
        f.keepControlRecords = keepControlRecords
        f.verifyCRC = verifyCRC
        f.rack = rack
        f.preferredReplicaRecheck = Interval(preferredReplicaRecheck)
        f.validateEpochs = validateEpochs
        f.topicRefresh = Interval(topicRefresh)
        f.retryBackoff = Interval(retryBackoff)
        return f
    }
}
