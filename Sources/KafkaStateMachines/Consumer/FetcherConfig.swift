/// How the fetcher reads: limits, isolation, sessions, offsets. Times are intervals on the
/// driver's clock.
package struct FetcherConfig: Sendable, Equatable {
    public var isolation: IsolationLevel = .readUncommitted
    public var resetPolicy: OffsetResetPolicy = .start
    /// How long a broker may hold a fetch waiting for `minBytes`.
    public var maxWait: Interval = .milliseconds(500)
    public var minBytes: Int32 = 1
    /// The most bytes one fetch response may carry (Kafka's `fetch.max.bytes`).
    public var maxBytes: Int32 = 50 * 1024 * 1024
    /// The most bytes one partition may contribute to a response.
    public var partitionMaxBytes: Int32 = 1024 * 1024
    /// A partition's first fetch after assign or seek asks for this much; each fetch that
    /// brings data doubles it up to `partitionMaxBytes` (0: always `partitionMaxBytes`).
    public var firstFetchBytes: Int32 = 64 * 1024
    /// Until a fetch has brought records, a fetch asks for `firstFetchBytes` in all (and of
    /// each partition): the consumer's first records come quickly however many partitions it
    /// reads (100 partitions on Tansu: 0.23-0.5 s to the first record with 64 KiB of each).
    /// From then on every partition asks for `partitionMaxBytes`: a partition ramping up on its
    /// own from `firstFetchBytes` cost a round trip per doubling (1,000 partitions on Tansu,
    /// which answers a fetch with part of the partitions: 3.9 s against 2.2 s). Off: each
    /// partition ramps on its own and the first fetch asks for all their first sizes, as
    /// recordings made before this setting did.
    public var fullSizeOnceRecordsArrive = true
    /// The least a fetch to a broker asks for after connections to it were cut while a
    /// fetch was in flight: each such cut halves what the next fetch there asks (in all and
    /// per partition) down to this, and each answered fetch doubles it back. An answer larger
    /// than what a path lets through before it resets would otherwise be cut on every
    /// attempt. 0: never shrink.
    public var fetchBytesAfterCut: Int32 = 4 * 1024
    /// A fetch asks in all for no more than its partitions ask for together (off: only the
    /// buffer's room and `maxBytes` bound it, as recordings made before this setting did).
    public var capFetchAtPartitionSizes = true
    /// A fetch asks for no more than its share of `maxBufferedBytes`: the buffer divided by
    /// the fetches out or going out at once, one per broker (off: each fetch may take the
    /// whole room, as recordings made before this setting did). With several brokers, each
    /// one's fetch would otherwise be sized to the whole buffer at once.
    public var shareRoomAmongFetches = true
    /// Fetches in flight at once across all brokers (at most one per broker anyway).
    public var maxConcurrentFetches = 16
    /// Fetched bytes delivered but not yet polled by the user; no fetch starts while this
    /// much is buffered (backpressure).
    public var maxBufferedBytes = 64 * 1024 * 1024
    /// KIP-227 incremental fetch sessions; off: every fetch is a full sessionless fetch.
    public var fetchSessions = true
    /// Deliver transaction markers (control records) to the user too.
    public var keepControlRecords = false
    /// Check each batch's CRC when scanning a response (the user's decode checks again).
    public var verifyCRC = true
    /// KIP-392: the client's rack; a leader may then point us at a replica in this rack.
    public var rack: String? = nil
    /// How long a preferred read replica is used before asking the leader again.
    public var preferredReplicaRecheck: Interval = .seconds(300)
    /// KIP-320: validate positions with OffsetForLeaderEpoch after a leader epoch change.
    public var validateEpochs = true
    /// Wait after a partition's request failed before trying it again.
    public var retryBackoff: Interval = .milliseconds(100)
    /// With a regex subscription, metadata is refreshed this often to find new topics.
    public var topicRefresh: Interval = .seconds(5)

    public init() {}
}
