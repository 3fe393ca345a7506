import KafkaProtocol
import KafkaStateMachines

/// One producer a partition's leader holds state for (DescribeProducers).
public struct ProducerStateDescription: Sendable, Equatable {
    /// The producer id.
    public var producerId: Int64
    /// Its epoch.
    public var producerEpoch: Int32
    /// -1 before the producer's first batch with a sequence.
    public var lastSequence: Int32
    /// The last batch's max timestamp (ms), -1 when unknown.
    public var lastTimestamp: Int64
    /// nil when the leader knows none (no marker written for this producer yet).
    public var coordinatorEpoch: Int32?
    /// The first offset of the producer's open transaction here; nil when none is open.
    public var currentTransactionStartOffset: Int64?
}

/// A transactional id as `listTransactions` names it.
public struct TransactionListing: Sendable, Equatable {
    /// The transactional id.
    public var transactionalId: String
    /// Its current producer id.
    public var producerId: Int64
    /// Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Empty, Dead.
    public var state: String
}

/// Transactions from every broker (each lists those it coordinates), by transactional id;
/// `brokerError` is the first error a broker answered (or failed with), the others still listed.
public struct TransactionListings: Sendable, Equatable {
    /// Every coordinator's transactions.
    public var transactions: [TransactionListing]
    /// State filters the brokers did not know.
    public var unknownStateFilters: [String]
    /// The first error a broker answered, if any.
    public var brokerError: KafkaErrorCode?
}

/// A transactional id's state at its coordinator (`describeTransactions`).
public struct TransactionDescription: Sendable, Equatable {
    /// The transactional id.
    public var transactionalId: String
    /// Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Empty, Dead.
    public var state: String
    /// The transaction timeout the producer registered.
    public var timeoutMs: Int32
    /// nil when no transaction is open.
    public var startTimeMs: Int64?
    /// The current producer id.
    public var producerId: Int64
    /// Its epoch.
    public var producerEpoch: Int16
    /// The partitions in the open transaction, ascending.
    public var partitions: [TopicPartition]
}

/// A transaction to abort at one partition: the producer, its epoch and the coordinator
/// epoch the marker carries (what describeProducers reports for the partition).
public struct AbortTransactionSpec: Sendable, Hashable, CustomStringConvertible {
    /// The partition to write the abort marker to.
    public var partition: TopicPartition
    /// The producer whose transaction to abort.
    public var producerId: Int64
    /// Its epoch.
    public var producerEpoch: Int16
    /// The coordinator epoch the marker carries.
    public var coordinatorEpoch: Int32

    /// A spec from what `describeProducers` reported (or use `abortSpec`).
    public init(_ partition: TopicPartition, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32) {
        self.partition = partition
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// "t[0] producer 1000".
    public var description: String { "\(partition) producer \(producerId)" }

    var problem: KafkaAdminError? {
        if let p = KafkaAdmin.problem(partition: partition) { return p }
        if producerId < 0 { return .invalidArgument(description, reason: "a producer id is not negative") }
        if producerEpoch < 0 { return .invalidArgument(description, reason: "a producer epoch is not negative") }
        if coordinatorEpoch < 0 { return .invalidArgument(description, reason: "a coordinator epoch is not negative") }
        return nil
    }
}

extension KafkaAdmin {
    /// The producers each partition's leader holds state for (DescribeProducers, Kafka
    /// 2.8+), each partition asked of its leader; results named `topic[partition]`.
    public func describeProducers(_ partitions: [TopicPartition]) async throws(KafkaAdminError) -> [AdminResult<[ProducerStateDescription]>] {
        let problems = Self.problems(partitions, name: \.description) { Self.problem(partition: $0) }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<[ProducerStateDescription], KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DescribeProducersRequest()
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = DescribeProducersRequest.TopicRequest()
                t.name = topic
                t.partitionIndexes = ps
                return t
            }
            let resp = try await self.send("describeProducers", r)
            for t in resp.topics {
                for p in t.partitions {
                    let name = TopicPartition(t.name, p.partitionIndex).description
                    if let e = KafkaAdminError.from(p.errorCode, message: p.errorMessage) { answers[name] = .failure(e); continue }
                    answers[name] = .success(p.activeProducers.map {
                        ProducerStateDescription(producerId: $0.producerId, producerEpoch: $0.producerEpoch, lastSequence: $0.lastSequence,
                                                 lastTimestamp: $0.lastTimestamp, coordinatorEpoch: $0.coordinatorEpoch >= 0 ? $0.coordinatorEpoch : nil,
                                                 currentTransactionStartOffset: $0.currentTxnStartOffset >= 0 ? $0.currentTxnStartOffset : nil)
                    }.sorted { $0.producerId < $1.producerId })
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// Transactions on every broker (ListTransactions, Kafka 3.0+), filtered by state and
    /// producer id when given, and (`runningLongerThan`, v1, Kafka 3.8) by age.
    public func listTransactions(states: [String] = [], producerIds: [Int64] = [],
                                 runningLongerThan: Duration? = nil) async throws(KafkaAdminError) -> TransactionListings {
        var r = ListTransactionsRequest()
        r.stateFilters = states
        r.producerIdFilters = producerIds
        if let d = runningLongerThan {
            guard d >= .zero else { throw .invalidArgument("runningLongerThan", reason: "a duration is not negative") }
            r.durationFilter = Int64(Self.milliseconds(d))
        }
        let low: Int16 = runningLongerThan != nil ? 1 : 0
        let resp = try await send("listTransactions", r, pin: low ... ListTransactionsRequest.validVersions.upperBound)
        let listed = resp.transactionStates.map { TransactionListing(transactionalId: $0.transactionalId, producerId: $0.producerId, state: $0.transactionState) }
        return TransactionListings(transactions: listed.sorted { $0.transactionalId < $1.transactionalId },
                                   unknownStateFilters: resp.unknownStateFilters.sorted(),
                                   brokerError: resp.errorCode == 0 ? nil : KafkaErrorCode(resp.errorCode))
    }

    /// Each transactional id's state, producer and open partitions, asked of its coordinator
    /// (ids sharing one in one request; DescribeTransactions, Kafka 3.0+).
    public func describeTransactions(_ transactionalIds: [String]) async throws(KafkaAdminError) -> [AdminResult<TransactionDescription>] {
        let problems = Self.problems(transactionalIds, name: { $0 }) { $0.isEmpty ? .invalidArgument("transactional id", reason: "empty") : nil }
        let send = zip(transactionalIds, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<TransactionDescription, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DescribeTransactionsRequest()
            r.transactionalIds = send
            let resp = try await self.send("describeTransactions", r)
            for t in resp.transactionStates {
                if let e = KafkaAdminError.from(t.errorCode) { answers[t.transactionalId] = .failure(e); continue }
                let parts = t.topics.flatMap { d in d.partitions.map { TopicPartition(d.topic, $0) } }.sorted()
                answers[t.transactionalId] = .success(TransactionDescription(
                    transactionalId: t.transactionalId, state: t.transactionState, timeoutMs: t.transactionTimeoutMs,
                    startTimeMs: t.transactionStartTimeMs >= 0 ? t.transactionStartTimeMs : nil,
                    producerId: t.producerId, producerEpoch: t.producerEpoch, partitions: parts))
            }
        }
        return Self.results(transactionalIds, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Aborts hanging transactions (a partition holding a transaction its coordinator no
    /// longer finishes) the way kafka-transactions.sh does: an abort marker written by
    /// WriteTxnMarkers to each partition's leader, with the producer's id and epoch and the
    /// coordinator epoch (see `describeProducers`, `abortSpec(_:startOffset:)`). Results
    /// named `topic[partition] producer ID`.
    public func abortTransactions(_ specs: [AbortTransactionSpec]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        var problems = Self.problems(specs, name: \.description) { $0.problem }
        let wanted = specs.indices.filter { problems[$0] == nil }
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        guard !wanted.isEmpty else { return Self.results(specs, problems: problems, name: \.description) { answers[$0] } }
        // The leaders, from the topics' metadata; a partition without one fails alone.
        let topics = Array(Set(wanted.map { specs[$0].partition.topic })).sorted()
        var leaders: [TopicPartition: Int32] = [:]
        for d in try await describeTopics(topics) {
            guard case .success(let t) = d.result else {
                for i in wanted where specs[i].partition.topic == d.name { problems[i] = d.error }
                continue
            }
            for p in t.partitions { if let l = p.leader { leaders[TopicPartition(t.name, p.partition)] = l } }
        }
        var byLeader: [Int32: [Int]] = [:]
        for i in wanted where problems[i] == nil {
            guard let l = leaders[specs[i].partition] else {
                problems[i] = .broker(.unknownTopicOrPartition, message: "\(specs[i].partition) has no leader in the cluster metadata")
                continue
            }
            byLeader[l, default: []].append(i)
        }
        for leader in byLeader.keys.sorted() {
            let items = byLeader[leader]!
            var r = WriteTxnMarkersRequest()
            r.markers = items.map { i in
                let s = specs[i]
                var m = WriteTxnMarkersRequest.WritableTxnMarker()
                m.producerId = s.producerId
                m.producerEpoch = s.producerEpoch
                m.transactionResult = false
                m.coordinatorEpoch = s.coordinatorEpoch
                var t = WriteTxnMarkersRequest.WritableTxnMarkerTopic()
                t.name = s.partition.topic
                t.partitionIndexes = [s.partition.partition]
                m.topics = [t]
                return m
            }
            do {
                let resp = try await send("abortTransactions", r, to: .broker(leader))
                for m in resp.markers {
                    for t in m.topics {
                        for p in t.partitions {
                            let name = AbortTransactionSpec(TopicPartition(t.name, p.partitionIndex), producerId: m.producerId, producerEpoch: 0,
                                                            coordinatorEpoch: 0).description
                            answers[name] = KafkaAdminError.from(p.errorCode).map { .failure($0) } ?? .success(AdminDone())
                        }
                    }
                }
            } catch {
                if case .unsupportedByBroker = error { throw error }
                // This leader's items fail; the other leaders' are still sent.
                for i in items { answers[specs[i].description] = .failure(error) }
            }
        }
        return Self.results(specs, problems: problems, name: \.description) { answers[$0] }
    }

    /// The abort spec of the transaction open at `partition` since `startOffset`, from the
    /// partition leader's producer states (kafka-transactions.sh abort --start-offset).
    public func abortSpec(_ partition: TopicPartition, startOffset: Int64) async throws(KafkaAdminError) -> AbortTransactionSpec {
        let producers = try await describeProducers([partition])[0].result.get()
        guard let p = producers.first(where: { $0.currentTransactionStartOffset == startOffset }) else {
            throw .invalidArgument(partition.description, reason: "no open transaction starts at offset \(startOffset)")
        }
        guard p.producerEpoch >= 0, p.producerEpoch <= Int32(Int16.max) else {
            throw .invalidArgument(partition.description, reason: "producer \(p.producerId) has epoch \(p.producerEpoch), outside an int16")
        }
        return AbortTransactionSpec(partition, producerId: p.producerId, producerEpoch: Int16(p.producerEpoch),
                                    coordinatorEpoch: p.coordinatorEpoch ?? 0)
    }
}
