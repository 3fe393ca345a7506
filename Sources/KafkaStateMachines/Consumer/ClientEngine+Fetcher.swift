import KafkaProtocol

/// The engine's consumer inputs: the fetcher sub-machine runs after each of them (and on
/// ticks, metadata updates and its own answers) and its outputs become engine requests
/// (owner `.fetcher`, no retries) and `.fetched` actions.
extension ClientEngine {
    /// Consumes these partitions from these offsets (an assigned partition moves, as with `seek`).
    mutating func assign(_ partitions: [TopicPartition: StartOffset], now: Instant) {
        fetcher.assign(partitions)
        runFetcher(now: now)
    }

    mutating func unassign(_ partitions: [TopicPartition], now: Instant) {
        fetcher.unassign(partitions)
        runFetcher(now: now)
    }

    /// Consumes topics by name and by pattern; replaces the previous subscription.
    mutating func subscribe(_ subscription: TopicSubscription, now: Instant) {
        let md = metadata
        fetcher.subscribe(subscription, metadata: md)
        runFetcher(now: now)
    }

    mutating func seek(_ tp: TopicPartition, to start: StartOffset, now: Instant) {
        fetcher.seek(tp, to: start)
        runFetcher(now: now)
    }

    /// Resumes a partition stopped by a bad batch, after that batch.
    mutating func skip(_ tp: TopicPartition, now: Instant) {
        fetcher.skip(tp)
        runFetcher(now: now)
    }

    /// The user could not decode a batch at `offset`: stop the partition there.
    mutating func stopPartition(_ tp: TopicPartition, at offset: Int64, error: ConsumerPartitionError, skipTo: Int64, now: Instant) {
        fetcher.stop(tp, at: offset, error: error, skipTo: skipTo)
        runFetcher(now: now)
    }

    mutating func pause(_ partitions: [TopicPartition], now: Instant) {
        fetcher.pause(partitions)
        runFetcher(now: now)
    }

    mutating func resume(_ partitions: [TopicPartition], now: Instant) {
        fetcher.resume(partitions)
        runFetcher(now: now)
    }

    /// The user polled `bytes` of fetched records: room for more fetches.
    mutating func fetchConsumed(bytes: Int, now: Instant) {
        fetcher.consumed(bytes: bytes)
        runFetcher(now: now)
    }

    /// The fetcher's state, read-only (positions, assignment, buffered bytes).
    public var fetchState: Fetcher { fetcher }

    // MARK: plumbing

    mutating func fetcherMetadataUpdated(now: Instant) {
        guard fetcher.isActive else { return }
        let md = metadata
        fetcher.metadataUpdated(md)
        runFetcher(now: now)
    }

    mutating func fetcherCompleted(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        let md = metadata
        fetcher.completed(tag, result, now: now, metadata: md)
        runFetcher(now: now)
    }

    mutating func runFetcher(now: Instant) {
        guard !isClosed, fetcher.isActive else {
            applyFetcherOutputs(now: now)
            return
        }
        if let topics = fetcher.metadataTopics {
            metadata.addInterest(topics)
        } else {
            metadata.wantsAllTopics = true
        }
        let md = metadata
        let versions = brokerVersions
        fetcher.schedule(now: now, metadata: md, versions: versions)
        applyFetcherOutputs(now: now)
    }

    private mutating func applyFetcherOutputs(now: Instant) {
        var refresh = false
        for output in fetcher.takeOutputs() {
            switch output {
            case .send(let tag, let request, let broker, let pin):
                let id = takeRequestId()
                pending[id] = PendingRequest(owner: .fetcher(tag), request: request, target: .broker(broker), pin: pin,
                                             firstAttempt: now, maxRetries: 0)
                route(id, now: now)
            case .deliver(let batch):
                actions.append(.fetched(batch))
            case .refreshMetadata:
                refresh = true
            }
        }
        if refresh && !isClosed { requestMetadataRefresh(now: now) }
    }
}
