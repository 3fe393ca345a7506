import KafkaProtocol

/// How the keys of a split request find their broker.
enum KeyRouting: Equatable {
    /// Each key (group id or transactional id) to its coordinator; keys sharing one batched.
    case coordinator(CoordinatorKey.Kind)
    /// Config resources: a BROKER or BROKER_LOGGER resource to the broker it names, every
    /// other resource to any broker.
    case namedBroker
    /// The whole request to every broker, their answers merged (each knows only its part).
    case everyBroker
}

/// Splits a request naming many keys (groups, transactional ids, config resources) into one
/// request per broker and merges the answers, each key's result in its own slot; a key
/// that could not be routed gets an entry carrying its error. `everyBroker` requests are
/// not split but copied: their keys are broker ids, used only to report a broker's failure.
protocol KeySharder {
    var routing: KeyRouting { get }
    /// The keys in request order (duplicates possible; the engine asks for each once).
    func keys(of request: any KafkaRequest) -> [String]
    func subset(_ request: any KafkaRequest, keeping keep: Set<String>) -> any KafkaRequest
    /// One response from the parts' answers (results ordered as `order`, the request's keys)
    /// plus an entry with its error for each key in `failed`.
    func merge(_ responses: [any KafkaResponse], failed: [(String, KafkaErrorCode)], order: [String]) -> any KafkaResponse
    func keyErrors(in response: any KafkaResponse) -> [(String, KafkaErrorCode)]
    /// The response without the entries for `drop` (to be answered again by a retry).
    func removing(_ drop: Set<String>, from response: any KafkaResponse) -> any KafkaResponse
}

enum KeySharding {
    /// The splitter of an API whose generated routing names no single key, or nil when the
    /// API is not split (it then goes to any broker).
    static func sharder(for key: ApiKey) -> (any KeySharder)? {
        switch key {
        case .describeGroups: return describeGroups()
        case .deleteGroups: return deleteGroups()
        case .consumerGroupDescribe: return consumerGroupDescribe()
        case .shareGroupDescribe: return shareGroupDescribe()
        case .offsetFetch: return offsetFetchGroups()
        case .describeTransactions: return describeTransactions()
        case .describeConfigs: return describeConfigs()
        case .alterConfigs: return alterConfigs()
        case .incrementalAlterConfigs: return incrementalAlterConfigs()
        case .listGroups: return listGroups()
        case .listTransactions: return listTransactions()
        case .describeLogDirs: return describeLogDirs()
        default: return nil
        }
    }

    /// Keys sharing a broker, brokers ascending; keys without a broker come first, for any broker.
    static func plan(_ keys: [String], broker: (String) -> Int32?) -> [(Int32?, [String])] {
        var anyKeys: [String] = []
        var byBroker: [Int32: [String]] = [:]
        for k in keys {
            if let b = broker(k) { byBroker[b, default: []].append(k) } else { anyKeys.append(k) }
        }
        let named: [(Int32?, [String])] = byBroker.keys.sorted().map { ($0, byBroker[$0]!) }
        return anyKeys.isEmpty ? named : [(nil, anyKeys)] + named
    }

    // MARK: config resources

    /// BROKER (4) and BROKER_LOGGER (8) resources name a broker by id; an empty name (the
    /// cluster-wide default) goes to any broker.
    static func namedBroker(resourceType: Int8, resourceName: String) -> Int32? {
        guard resourceType == 4 || resourceType == 8 else { return nil }
        return Int32(resourceName)
    }

    static func resourceKey(_ type: Int8, _ name: String) -> String { "\(type)/\(name)" }

    static func resource(ofKey key: String) -> (Int8, String) {
        guard let slash = key.firstIndex(of: "/") else { return (0, key) }
        return (Int8(key[..<slash]) ?? 0, String(key[key.index(after: slash)...]))
    }

    /// The broker a resource key names, for `KeyRouting.namedBroker`.
    static func namedBroker(ofKey key: String) -> Int32? {
        let (type, name) = resource(ofKey: key)
        return namedBroker(resourceType: type, resourceName: name)
    }

    // MARK: shapes

    static func describeGroups() -> some KeySharder {
        KeyListShape(routing: .coordinator(.group), items: \DescribeGroupsRequest.groups, itemKey: { $0 },
                     results: \DescribeGroupsResponse.groups, resultKey: \.groupId, errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { var g = DescribeGroupsResponse.DescribedGroup(); g.groupId = $0; return g })
    }

    static func deleteGroups() -> some KeySharder {
        KeyListShape(routing: .coordinator(.group), items: \DeleteGroupsRequest.groupsNames, itemKey: { $0 },
                     results: \DeleteGroupsResponse.results, resultKey: \.groupId, errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { var g = DeleteGroupsResponse.DeletableGroupResult(); g.groupId = $0; return g })
    }

    static func consumerGroupDescribe() -> some KeySharder {
        KeyListShape(routing: .coordinator(.group), items: \ConsumerGroupDescribeRequest.groupIds, itemKey: { $0 },
                     results: \ConsumerGroupDescribeResponse.groups, resultKey: \.groupId, errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { var g = ConsumerGroupDescribeResponse.DescribedGroup(); g.groupId = $0; return g })
    }

    static func shareGroupDescribe() -> some KeySharder {
        KeyListShape(routing: .coordinator(.group), items: \ShareGroupDescribeRequest.groupIds, itemKey: { $0 },
                     results: \ShareGroupDescribeResponse.groups, resultKey: \.groupId, errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { var g = ShareGroupDescribeResponse.DescribedGroup(); g.groupId = $0; return g })
    }

    /// OffsetFetch v8+ batching groups (`groupId` empty): split by the groups' coordinators.
    static func offsetFetchGroups() -> some KeySharder {
        KeyListShape(routing: .coordinator(.group), items: \OffsetFetchRequest.groups, itemKey: \.groupId,
                     results: \OffsetFetchResponse.groups, resultKey: \.groupId, errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { var g = OffsetFetchResponse.OffsetFetchResponseGroup(); g.groupId = $0; return g })
    }

    static func describeTransactions() -> some KeySharder {
        KeyListShape(routing: .coordinator(.transaction), items: \DescribeTransactionsRequest.transactionalIds, itemKey: { $0 },
                     results: \DescribeTransactionsResponse.transactionStates, resultKey: \.transactionalId, errorCode: \.errorCode,
                     throttle: \.throttleTimeMs,
                     failedEntry: { var t = DescribeTransactionsResponse.TransactionState(); t.transactionalId = $0; return t })
    }

    static func describeConfigs() -> some KeySharder {
        KeyListShape(routing: .namedBroker, items: \DescribeConfigsRequest.resources, itemKey: { resourceKey($0.resourceType, $0.resourceName) },
                     results: \DescribeConfigsResponse.results, resultKey: { resourceKey($0.resourceType, $0.resourceName) },
                     errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { key in
                         var r = DescribeConfigsResponse.DescribeConfigsResult()
                         (r.resourceType, r.resourceName) = resource(ofKey: key)
                         return r
                     })
    }

    static func alterConfigs() -> some KeySharder {
        KeyListShape(routing: .namedBroker, items: \AlterConfigsRequest.resources, itemKey: { resourceKey($0.resourceType, $0.resourceName) },
                     results: \AlterConfigsResponse.responses, resultKey: { resourceKey($0.resourceType, $0.resourceName) },
                     errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { key in
                         var r = AlterConfigsResponse.AlterConfigsResourceResponse()
                         (r.resourceType, r.resourceName) = resource(ofKey: key)
                         return r
                     })
    }

    static func incrementalAlterConfigs() -> some KeySharder {
        KeyListShape(routing: .namedBroker, items: \IncrementalAlterConfigsRequest.resources,
                     itemKey: { resourceKey($0.resourceType, $0.resourceName) },
                     results: \IncrementalAlterConfigsResponse.responses, resultKey: { resourceKey($0.resourceType, $0.resourceName) },
                     errorCode: \.errorCode, throttle: \.throttleTimeMs,
                     failedEntry: { key in
                         var r = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
                         (r.resourceType, r.resourceName) = resource(ofKey: key)
                         return r
                     })
    }

    static func listGroups() -> some KeySharder {
        EveryBrokerShape(errorCode: \ListGroupsResponse.errorCode, throttle: \.throttleTimeMs) { $0.groups += $1.groups }
    }

    static func listTransactions() -> some KeySharder {
        EveryBrokerShape(errorCode: \ListTransactionsResponse.errorCode, throttle: \.throttleTimeMs) { out, r in
            out.transactionStates += r.transactionStates
            for f in r.unknownStateFilters where !out.unknownStateFilters.contains(f) { out.unknownStateFilters.append(f) }
        }
    }

    /// The merged answer lists every broker's log dirs but no longer says whose each is:
    /// callers that need that ask each broker with `.broker(id)`.
    static func describeLogDirs() -> some KeySharder {
        EveryBrokerShape(errorCode: \DescribeLogDirsResponse.errorCode, throttle: \.throttleTimeMs) { $0.results += $1.results }
    }
}

/// A request listing its keys and a response listing one result (with an error code) per
/// key. Closures name the fields; the algorithms are written once.
struct KeyListShape<Req: KafkaRequest, Item, Resp: KafkaResponse, Result: KafkaStruct>: KeySharder {
    let routing: KeyRouting
    let items: WritableKeyPath<Req, [Item]>
    let itemKey: (Item) -> String
    let results: WritableKeyPath<Resp, [Result]>
    let resultKey: (Result) -> String
    let errorCode: WritableKeyPath<Result, Int16>
    let throttle: WritableKeyPath<Resp, Int32>
    /// A result for `key` with its key fields set (the error code is set by `merge`).
    let failedEntry: (String) -> Result

    func keys(of request: any KafkaRequest) -> [String] {
        guard let r = request as? Req else { return [] }
        return r[keyPath: items].map(itemKey)
    }

    func subset(_ request: any KafkaRequest, keeping keep: Set<String>) -> any KafkaRequest {
        guard var r = request as? Req else { return request }
        r[keyPath: items] = r[keyPath: items].filter { keep.contains(itemKey($0)) }
        return r
    }

    func merge(_ responses: [any KafkaResponse], failed: [(String, KafkaErrorCode)], order: [String]) -> any KafkaResponse {
        var out = Resp()
        var all: [Result] = []
        for case let r as Resp in responses {
            out[keyPath: throttle] = max(out[keyPath: throttle], r[keyPath: throttle])
            all += r[keyPath: results]
        }
        for (key, code) in failed {
            var e = failedEntry(key)
            e[keyPath: errorCode] = code.rawValue
            all.append(e)
        }
        // Request order, whichever broker answered first; keys the request did not name last.
        var rank: [String: Int] = [:]
        for (i, k) in order.enumerated() where rank[k] == nil { rank[k] = i }
        let ranked = all.enumerated().map { (rank[resultKey($0.element)] ?? order.count, $0.offset, $0.element) }
        out[keyPath: results] = ranked.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
        return out
    }

    func keyErrors(in response: any KafkaResponse) -> [(String, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r[keyPath: results].map { (resultKey($0), KafkaErrorCode($0[keyPath: errorCode])) }
    }

    func removing(_ drop: Set<String>, from response: any KafkaResponse) -> any KafkaResponse {
        guard var r = response as? Resp else { return response }
        r[keyPath: results].removeAll { drop.contains(resultKey($0)) }
        return r
    }
}

/// A request every broker answers for its own part: the answers concatenated in broker id
/// order; the first error any broker answered (or failed with) is the merged error code,
/// the other brokers' parts still listed.
struct EveryBrokerShape<Resp: KafkaResponse>: KeySharder {
    let errorCode: WritableKeyPath<Resp, Int16>
    let throttle: WritableKeyPath<Resp, Int32>
    let combine: (inout Resp, Resp) -> Void

    var routing: KeyRouting { .everyBroker }
    func keys(of request: any KafkaRequest) -> [String] { [] }
    func subset(_ request: any KafkaRequest, keeping keep: Set<String>) -> any KafkaRequest { request }

    func merge(_ responses: [any KafkaResponse], failed: [(String, KafkaErrorCode)], order: [String]) -> any KafkaResponse {
        var out = Resp()
        for case let r as Resp in responses {
            out[keyPath: throttle] = max(out[keyPath: throttle], r[keyPath: throttle])
            if out[keyPath: errorCode] == 0 { out[keyPath: errorCode] = r[keyPath: errorCode] }
            combine(&out, r)
        }
        if out[keyPath: errorCode] == 0, let (_, code) = failed.first { out[keyPath: errorCode] = code.rawValue }
        return out
    }

    func keyErrors(in response: any KafkaResponse) -> [(String, KafkaErrorCode)] { [] }
    func removing(_ drop: Set<String>, from response: any KafkaResponse) -> any KafkaResponse { response }
}
