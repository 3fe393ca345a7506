/// Coordinator lookup: FindCoordinator answers, kept until an error says the coordinator
/// moved (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) or its connection fails, and the one
/// FindCoordinator in flight per key (requests for that key wait for it).
struct CoordinatorCache {
    struct Entry: Equatable {
        var nodeId: Int32
        var address: BrokerAddress
    }
    private var entries: [CoordinatorKey: Entry] = [:]
    /// The request id of the FindCoordinator in flight per key.
    private var finding: [CoordinatorKey: UInt64] = [:]

    subscript(key: CoordinatorKey) -> Entry? { entries[key] }

    mutating func set(_ key: CoordinatorKey, _ entry: Entry) { entries[key] = entry }
    mutating func invalidate(_ key: CoordinatorKey) { entries[key] = nil }

    func isFinding(_ key: CoordinatorKey) -> Bool { finding[key] != nil }
    mutating func findStarted(_ key: CoordinatorKey, request id: UInt64) { finding[key] = id }
    /// The FindCoordinator for `key` was answered or failed for good.
    mutating func findEnded(_ key: CoordinatorKey) { finding[key] = nil }

    /// The request that finds `key`'s coordinator (v4+ batching is applied at send time).
    static func findRequest(for key: CoordinatorKey) -> FindCoordinatorRequest {
        var r = FindCoordinatorRequest()
        r.key = key.key
        r.keyType = key.kind.rawValue
        return r
    }

    /// The one coordinator a FindCoordinator response names, whichever version carried it.
    static func parse(_ response: FindCoordinatorResponse) -> Result<Entry, KafkaClientError> {
        if let c = response.coordinators.first {
            let code = KafkaErrorCode(c.errorCode)
            guard code == .noError else { return .failure(.brokerError(code, message: c.errorMessage)) }
            return .success(Entry(nodeId: c.nodeId, address: BrokerAddress(host: c.host, port: Int(c.port))))
        }
        let code = KafkaErrorCode(response.errorCode)
        guard code == .noError else { return .failure(.brokerError(code, message: response.errorMessage)) }
        return .success(Entry(nodeId: response.nodeId, address: BrokerAddress(host: response.host, port: Int(response.port))))
    }

    static func meansMoved(_ code: KafkaErrorCode) -> Bool {
        code == .notCoordinator || code == .coordinatorNotAvailable
    }
}
