import KafkaProtocol

/// The fetcher as an engine component: it schedules on every run while it has partitions or
/// a subscription, and tells the engine once which topics its metadata must cover.
extension Fetcher: EngineComponent {
    mutating func answered(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant) {
        completed(tag, result, now: now, metadata: context.metadata)
    }

    mutating func metadataUpdated(context: ComponentContext, now: Instant) {
        guard isActive else { return }
        metadataUpdated(context.metadata)
    }

    /// Backoffs and topic refreshes are checked by `schedule`, which each run calls.
    mutating func tick(context: ComponentContext, now: Instant) -> Bool { true }

    func nextDeadline(after floor: Instant?) -> Instant? { isActive ? nextFetchDeadline(after: floor) : nil }

    mutating func close(context: ComponentContext, now: Instant) {}

    mutating func run(context: ComponentContext, now: Instant, into outputs: inout [ComponentOutput]) {
        if !context.isClosed && isActive {
            let topics = metadataTopics
            if interestTold != .some(topics) {
                interestTold = .some(topics)
                outputs.append(.metadata(topics: topics, refresh: .notNeeded))
            }
            schedule(now: now, metadata: context.metadata, versions: context.brokerVersions)
        }
        outputs.append(contentsOf: takeOutputs())
    }
}
