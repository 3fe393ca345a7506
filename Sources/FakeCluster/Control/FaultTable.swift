/// Faults armed by tests for the next N requests of an API key: an error answer, a delay,
/// or a dropped connection before or after handling. Consumed in the order armed.
struct FaultTable: Sendable {
    struct Fault: Sendable, Equatable {
        var apiKey: ApiKey
        var broker: Int32?
        var remaining: Int
        var error: Int16?
        var delayMs: Int64?
        var dropBefore = false
        var dropAfter = false
    }

    var armed: [Fault] = []

    /// Errors for the next N times a partition is produced to or fetched from.
    struct PartitionFault: Sendable, Equatable {
        var apiKey: ApiKey
        var topicPartition: TopicPartition
        var remaining: Int
        var error: Int16
    }

    var partitionFaults: [PartitionFault] = []

    mutating func take(_ key: ApiKey, _ tp: TopicPartition) -> Int16? {
        guard let i = partitionFaults.firstIndex(where: { $0.apiKey == key && $0.topicPartition == tp }) else { return nil }
        let e = partitionFaults[i].error
        partitionFaults[i].remaining -= 1
        if partitionFaults[i].remaining <= 0 { partitionFaults.remove(at: i) }
        return e
    }

    mutating func take(_ key: ApiKey, broker: Int32) -> Fault? {
        guard let i = armed.firstIndex(where: { $0.apiKey == key && ($0.broker == nil || $0.broker == broker) }) else {
            return nil
        }
        let f = armed[i]
        armed[i].remaining -= 1
        if armed[i].remaining <= 0 { armed.remove(at: i) }
        return f
    }
}
