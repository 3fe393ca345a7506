import Foundation

/// Emits the per-API facts the client and the fake broker ask of any request or response
/// (the `KafkaRequest` / `KafkaResponse` requirements in KafkaProtocol's KafkaMessage.swift),
/// one extension per message beside its codec:
///
/// - responses: `throttleMilliseconds` / `setThrottleMilliseconds(_:)` /
///   `carriesThrottle(version:)` from a top-level `ThrottleTimeMs` int32 field, and
///   `topLevelErrorCode` / `setTopLevelErrorCode(_:)` / `carriesTopLevelErrorCode(version:)`
///   from a top-level `ErrorCode` int16 field. Fields nested in structs never count.
/// - requests: `brokerTimeoutMilliseconds` (see `brokerTimeoutField`), `routing` and
///   `routingKey` (see `routingTable`).

// MARK: - Broker-side timeouts

/// The rule for "how long the broker may hold this request": a top-level int32 field named
/// `TimeoutMs` (any case of its first letter: CreateTopics and UpdateFeatures write
/// `timeoutMs`) or `MaxWaitMs` (Fetch, ShareFetch), plus the exceptions below. Every other
/// `...Ms` field of a request is a setting the broker stores, not a wait, and does not count:
/// SessionTimeoutMs (member liveness), TransactionTimeoutMs (abort of idle transactions),
/// RetentionTimeMs, MaxLifetimeMs, ExpiryTimePeriodMs, RenewPeriodMs, and
/// ConsumerGroupHeartbeat's RebalanceTimeoutMs (a member setting, -1 when unchanged; a KIP-848
/// heartbeat is answered at once).
let brokerTimeoutNames: Set<String> = ["TimeoutMs", "timeoutMs", "MaxWaitMs", "maxWaitMs"]

/// APIs whose request the broker holds for a field the name rule does not catch.
/// JoinGroup: the classic coordinator parks a join until every member rejoined or the
/// rebalance timeout passed (Kafka's GroupCoordinator; franz-go adds it to the request
/// deadline too).
let brokerTimeoutExceptions: [String: String] = [
    "JoinGroup": "RebalanceTimeoutMs",
]

func brokerTimeoutField(_ a: ApiEntry) throws -> Field? {
    let name: String
    if let n = brokerTimeoutExceptions[a.name] {
        name = n
    } else if let f = a.request.fields.first(where: { brokerTimeoutNames.contains($0.name) }) {
        name = f.name
    } else {
        return nil
    }
    guard let f = a.request.fields.first(where: { $0.name == name }), f.type == .int32, !f.hasNullableVersions else {
        throw GenError("\(a.request.fileName): broker timeout field \(name) missing or not a non-null int32")
    }
    return f
}

// MARK: - Routing

/// Where a request must go, by API. The JSON does not say, so this table does: one line per
/// API routed anywhere but "any broker", each with the Kafka / franz-go fact it follows.
/// `key` names the top-level string field that picks the coordinator; `optionalKey` means
/// an empty (or null) key routes to any broker instead.
struct RoutingRule {
    var kind: String            // a `RequestRouting` case
    var key: String? = nil
    var optionalKey: Bool = false
}

let routingTable: [String: RoutingRule] = [
    // The group coordinator owns a group's membership and offsets (Kafka answers
    // NOT_COORDINATOR elsewhere; franz-go's Request sends these to the group's coordinator).
    "JoinGroup": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "SyncGroup": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "Heartbeat": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "LeaveGroup": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "OffsetCommit": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    // v8+ batches groups in `Groups` (GroupId empty): no single key, any broker.
    "OffsetFetch": RoutingRule(kind: "groupCoordinator", key: "GroupId", optionalKey: true),
    // Commits to the group's offsets inside a transaction: the group's coordinator.
    "TxnOffsetCommit": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "OffsetDelete": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "ConsumerGroupHeartbeat": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    "ShareGroupHeartbeat": RoutingRule(kind: "groupCoordinator", key: "GroupId"),
    // Many groups per request: franz-go splits them by coordinator (no single key here).
    "DescribeGroups": RoutingRule(kind: "groupCoordinator"),
    "DeleteGroups": RoutingRule(kind: "groupCoordinator"),
    "ConsumerGroupDescribe": RoutingRule(kind: "groupCoordinator"),
    "ShareGroupDescribe": RoutingRule(kind: "groupCoordinator"),
    // The transaction coordinator owns a transactional id's state.
    "AddOffsetsToTxn": RoutingRule(kind: "transactionCoordinator", key: "TransactionalId"),
    "EndTxn": RoutingRule(kind: "transactionCoordinator", key: "TransactionalId"),
    // Without a transactional id (idempotent producer) any broker allocates the id.
    "InitProducerId": RoutingRule(kind: "transactionCoordinator", key: "TransactionalId", optionalKey: true),
    // v4+ is broker-to-coordinator batching (the v3-and-below id is empty then).
    "AddPartitionsToTxn": RoutingRule(kind: "transactionCoordinator", key: "V3AndBelowTransactionalId", optionalKey: true),
    // Many ids per request: franz-go splits them by coordinator.
    "DescribeTransactions": RoutingRule(kind: "transactionCoordinator"),
    // The controller (ZooKeeper-era brokers answer NOT_CONTROLLER elsewhere; franz-go sends
    // these to the controller; KRaft brokers would forward them).
    "CreateTopics": RoutingRule(kind: "controller"),
    "DeleteTopics": RoutingRule(kind: "controller"),
    "CreatePartitions": RoutingRule(kind: "controller"),
    "ElectLeaders": RoutingRule(kind: "controller"),
    "AlterPartitionReassignments": RoutingRule(kind: "controller"),
    "ListPartitionReassignments": RoutingRule(kind: "controller"),
    // Each partition's leader answers for it (NOT_LEADER_OR_FOLLOWER elsewhere): split by
    // leader, answers merged (franz-go shards these). Produce and Fetch are targeted by the
    // client's producer and fetcher themselves; share fetches go to leaders as fetches do.
    "Produce": RoutingRule(kind: "partitionLeaders"),
    "Fetch": RoutingRule(kind: "partitionLeaders"),
    "ListOffsets": RoutingRule(kind: "partitionLeaders"),
    "DeleteRecords": RoutingRule(kind: "partitionLeaders"),
    "OffsetForLeaderEpoch": RoutingRule(kind: "partitionLeaders"),
    "DescribeProducers": RoutingRule(kind: "partitionLeaders"),
    "ShareFetch": RoutingRule(kind: "partitionLeaders"),
    "ShareAcknowledge": RoutingRule(kind: "partitionLeaders"),
    // Each broker knows only its own part (its groups, transactions, log dirs): franz-go
    // asks every broker and merges.
    "ListGroups": RoutingRule(kind: "everyBroker"),
    "ListTransactions": RoutingRule(kind: "everyBroker"),
    "DescribeLogDirs": RoutingRule(kind: "everyBroker"),
    // BROKER / BROKER_LOGGER resources go to the broker they name, the rest to any broker
    // (Kafka's admin client; franz-go splits them that way).
    "DescribeConfigs": RoutingRule(kind: "namedBroker"),
    "AlterConfigs": RoutingRule(kind: "namedBroker"),
    "IncrementalAlterConfigs": RoutingRule(kind: "namedBroker"),
    // Every other API: any broker (metadata, FindCoordinator, ACLs, quotas, SCRAM, ...;
    // broker-internal APIs are never sent by a client).
]

let routingKinds: Set<String> = [
    "anyBroker", "controller", "groupCoordinator", "transactionCoordinator", "partitionLeaders", "everyBroker",
    "namedBroker",
]

func checkRoutingTable(_ apis: [ApiEntry]) throws {
    let names = Set(apis.map(\.name))
    for (name, rule) in routingTable {
        guard names.contains(name) else { throw GenError("routing table: no API named \(name)") }
        guard routingKinds.contains(rule.kind) else { throw GenError("routing table: \(name): unknown kind \(rule.kind)") }
    }
}

// MARK: - Emission

private func topLevel(_ m: MessageSpec, _ name: String, _ type: FieldType) throws -> Field? {
    guard let f = m.fields.first(where: { $0.name == name }) else { return nil }
    guard f.type == type, !f.hasNullableVersions else { throw GenError("\(m.fileName): \(name) has an unexpected type") }
    return f
}

/// A Bool expression over `version`: within the message's valid versions and the field's.
private func versionTest(_ f: Field, _ m: MessageSpec) -> String {
    var r = f.versions
    if f.tag != nil { r = r?.intersect(f.taggedVersions) }
    guard let x = r?.intersect(VersionRange(lo: m.validLo, hi: m.validHi)) else { return "false" }
    let hi = x.hi ?? m.validHi
    return x.lo == hi ? "version == \(x.lo)" : "version >= \(x.lo) && version <= \(hi)"
}

func emitRequestFacts(_ a: ApiEntry, o: Out) throws {
    let m = a.request
    let rule = routingTable[a.name] ?? RoutingRule(kind: "anyBroker")
    o.line("")
    o.open("extension \(m.name) {")
    o.line("/// Where this request goes (kafka-gen's routing table, FactsEmitter.swift).")
    o.line("public static let routing: RequestRouting = .\(rule.kind)")
    o.line("")
    if let key = rule.key {
        guard let f = m.fields.first(where: { $0.name == key }), f.type == .string else {
            throw GenError("\(m.fileName): routing key \(key) missing or not a string")
        }
        let prop = "self." + escaped(swiftFieldName(f.name))
        o.line("/// The coordinator key: `\(swiftFieldName(f.name))`\(rule.optionalKey ? "; nil when empty (any broker then)" : "").")
        o.open("public var routingKey: String? {")
        if f.hasNullableVersions {
            o.line("guard let key: String = \(prop), !key.isEmpty else { return nil }")
            o.line("return key")
        } else if rule.optionalKey {
            o.line("if \(prop).isEmpty { return nil }")
            o.line("return \(prop)")
        } else {
            o.line("return \(prop)")
        }
        o.close()
    } else {
        o.line("/// No single field picks the target.")
        o.line("public var routingKey: String? { nil }")
    }
    o.line("")
    if let f = try brokerTimeoutField(a) {
        o.line("/// How long the broker may hold this request: `\(swiftFieldName(f.name))`.")
        o.line("public var brokerTimeoutMilliseconds: Int32? { self.\(escaped(swiftFieldName(f.name))) }")
    } else {
        o.line("/// The broker answers this request without holding it.")
        o.line("public var brokerTimeoutMilliseconds: Int32? { nil }")
    }
    o.close()
}

func emitResponseFacts(_ a: ApiEntry, o: Out) throws {
    let m = a.response
    o.line("")
    o.open("extension \(m.name) {")
    if let f = try topLevel(m, "ThrottleTimeMs", .int32) {
        let prop = "self." + escaped(swiftFieldName(f.name))
        o.line("/// Whether `version` carries throttle_time_ms.")
        o.line("public static func carriesThrottle(version: Int16) -> Bool { \(versionTest(f, m)) }")
        o.line("public var throttleMilliseconds: Int32? { \(prop) }")
        o.open("public mutating func setThrottleMilliseconds(_ milliseconds: Int32) -> Bool {")
        o.line("\(prop) = milliseconds")
        o.line("return true")
        o.close()
    } else {
        o.line("/// This response has no throttle_time_ms.")
        o.line("public static func carriesThrottle(version: Int16) -> Bool { false }")
        o.line("public var throttleMilliseconds: Int32? { nil }")
        o.line("public mutating func setThrottleMilliseconds(_ milliseconds: Int32) -> Bool { false }")
    }
    o.line("")
    if let f = try topLevel(m, "ErrorCode", .int16) {
        let prop = "self." + escaped(swiftFieldName(f.name))
        o.line("/// Whether `version` carries the top-level error code.")
        o.line("public static func carriesTopLevelErrorCode(version: Int16) -> Bool { \(versionTest(f, m)) }")
        o.line("public var topLevelErrorCode: KafkaErrorCode? { KafkaErrorCode(\(prop)) }")
        o.open("public mutating func setTopLevelErrorCode(_ code: KafkaErrorCode) -> Bool {")
        o.line("\(prop) = code.rawValue")
        o.line("return true")
        o.close()
    } else {
        o.line("/// This response has no top-level error code.")
        o.line("public static func carriesTopLevelErrorCode(version: Int16) -> Bool { false }")
        o.line("public var topLevelErrorCode: KafkaErrorCode? { nil }")
        o.line("public mutating func setTopLevelErrorCode(_ code: KafkaErrorCode) -> Bool { false }")
    }
    o.close()
}
