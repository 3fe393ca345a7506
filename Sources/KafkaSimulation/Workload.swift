import KafkaStateMachines

/// A record the cluster acknowledged: it must be in the partition's log at `offset`.
package struct AckedRecord: Sendable, Equatable {
    package var topic: String
    package var partition: Int32
    package var offset: Int64
    package var value: [UInt8]
}

/// A request a workload wants issued.
package struct IssuedRequest {
    package var request: any KafkaRequest
    package var target: RequestTarget
    package var pin: ClosedRange<Int16>?
    package var promise: PromiseID
}

/// What a workload sees and how it acts: the engine's metadata (a copy), the phase, and
/// places to put requests, acknowledged records and violations. Producer and consumer
/// workloads of later issues plug in through the same protocol.
package struct WorkloadContext {
    package let now: UInt64
    package let metadata: MetadataCache
    /// Faults have healed; workloads stop retrying around trouble and expect success.
    package let inLiveness: Bool
    package internal(set) var requests: [IssuedRequest] = []
    package var acked: [AckedRecord]
    package var violations: Violations
    var nextPromise: UInt64
    /// Consumer inputs for the engine's fetcher (assign, polled bytes), applied in order.
    package internal(set) var consumer: [SimConsumerInput] = []

    /// Records for the engine's producer, and flushes (ClientEngine.produce / flush).
    package internal(set) var produced: [ProducerRecord] = []
    package internal(set) var flushes: [PromiseID] = []

    /// Other inputs for the workload's engine (a transaction's begin and end), fed after
    /// the records and flushes.
    package internal(set) var engineInputs: [EngineInput] = []
    /// The run is draining (past the liveness phase): nothing new may start.
    package var draining = false
    /// A wake asked from a callback (a workload waiting on an answer has no wake pending).
    package internal(set) var wakeAt: UInt64? = nil
    /// Lines for the run's summary (`SimulationResult.notes`), from the end-of-run checks.
    package internal(set) var notes: [String] = []

    package mutating func note(_ line: String) { notes.append(line) }

    package mutating func produce(_ r: ProducerRecord) { produced.append(r) }

    package mutating func wake(at t: UInt64) { wakeAt = min(wakeAt ?? t, t) }

    /// A promise for an engine input the workload builds (`.beginTransaction(p)` …).
    package mutating func promise() -> PromiseID {
        let p = PromiseID(nextPromise)
        nextPromise += 1
        return p
    }

    package mutating func input(_ i: EngineInput) { engineInputs.append(i) }

    package mutating func flush() -> PromiseID {
        let p = PromiseID(nextPromise)
        nextPromise += 1
        flushes.append(p)
        return p
    }

    package mutating func issue(_ r: any KafkaRequest, to target: RequestTarget = .automatic,
                               pin: ClosedRange<Int16>? = nil) -> PromiseID {
        let p = PromiseID(nextPromise)
        nextPromise += 1
        requests.append(IssuedRequest(request: r, target: target, pin: pin, promise: p))
        return p
    }
}

package protocol SimWorkload {
    var name: String { get }
    /// Which engine the workload drives: 0, the run's engine, or a further one (a
    /// transactional producer's second instance).
    var engineIndex: Int { get }
    /// Woken while the run drains too (to end what it started).
    var wakesWhileDraining: Bool { get }
    /// Acts at its wake time; returns the next one (nil: only completions wake it).
    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64?
    /// A request it issued completed.
    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext)
    /// Checks owned by the workload at the end of the run.
    func finish(_ ctx: inout WorkloadContext)
    /// Fetched data arrived (`.fetched` action).
    mutating func fetched(_ batch: FetchBatch, _ ctx: inout WorkloadContext)
    /// The engine's producer reported a batch (every workload hears every report).
    mutating func delivered(_ report: DeliveryReport, _ ctx: inout WorkloadContext)
    mutating func producerNotice(_ notice: ProducerNotice, _ ctx: inout WorkloadContext)
    /// The engine's group member reported an event (every workload hears every event).
    mutating func groupEvent(_ event: GroupEvent, _ ctx: inout WorkloadContext)
    /// End-of-run checks against the partitions' logs (`read` gives each offset's value).
    func checkLogs(_ read: (String, Int32) -> PartitionRecords?, _ ctx: inout WorkloadContext)
}

/// What a consumer workload asks of the engine's fetcher.
package enum SimConsumerInput {
    case assign([TopicPartition: StartOffset])
    /// Delivered bytes the workload has polled (backpressure).
    case consumed(Int)
}

extension SimWorkload {
    package var engineIndex: Int { 0 }
    package var wakesWhileDraining: Bool { false }
    /// Fetched data arrived (`.fetched` action); only consumer workloads care.
    package mutating func fetched(_ batch: FetchBatch, _ ctx: inout WorkloadContext) {}
    package mutating func delivered(_ report: DeliveryReport, _ ctx: inout WorkloadContext) {}
    package mutating func producerNotice(_ notice: ProducerNotice, _ ctx: inout WorkloadContext) {}
    package mutating func groupEvent(_ event: GroupEvent, _ ctx: inout WorkloadContext) {}
    package func checkLogs(_ read: (String, Int32) -> PartitionRecords?, _ ctx: inout WorkloadContext) {}
}
