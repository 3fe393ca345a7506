import KafkaProtocol
import KafkaStateMachines

/// Typed administration over a `KafkaClient`: topics, configs, consumer groups, offsets,
/// records and the cluster (franz-go's kadm is the model). Each call validates its input
/// first; an item that fails validation, or that the broker refuses, carries its own error
/// in the result while the call's other items are still sent and answered. A call throws
/// only when nothing could be answered (the cluster unreachable, a broker too old for it).
/// Requests are routed by the client (group and transaction requests to their
/// coordinators, config resources to the broker they name, lists from every broker).
public struct KafkaAdmin: Sendable {
    /// The client the requests go through.
    public let client: KafkaClient

    /// Administration through `client` (it may also produce and consume).
    public init(client: KafkaClient) {
        self.client = client
    }
}

/// One item's outcome in an admin call: its name (a topic, a group, a resource, a
/// partition) and its value or its error.
public struct AdminResult<Value: Sendable>: Sendable {
    /// The item: a topic, group, resource or `topic[partition]`.
    public var name: String
    /// Its value or its own error.
    public var result: Result<Value, KafkaAdminError>

    /// For tests of code that reads admin results.
    public init(_ name: String, _ result: Result<Value, KafkaAdminError>) {
        self.name = name
        self.result = result
    }

    /// The value, nil when the item failed.
    public var value: Value? { try? result.get() }
    /// The item's error, nil when it succeeded.
    public var error: KafkaAdminError? {
        if case .failure(let e) = result { return e }
        return nil
    }
}

extension AdminResult: Equatable where Value: Equatable {}

/// Why an admin call or one of its items failed.
public enum KafkaAdminError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Kafka's rule: 1 to 249 characters of [a-zA-Z0-9._-], not "." or "..".
    case invalidTopicName(String, reason: String)
    /// The item's input is not valid (named), with why.
    case invalidArgument(String, reason: String)
    /// More replicas asked for than the cluster has brokers.
    case replicationFactorAboveBrokerCount(topic: String, replicationFactor: Int16, brokers: Int)
    /// The item was named twice in one call; the first is sent.
    case duplicate(String)
    /// The broker refused the item.
    case broker(KafkaErrorCode, message: String?)
    /// The broker does not serve the version this call needs: `release` is the first Kafka
    /// release that does (nil when no release in the table does).
    case unsupportedByBroker(call: String, api: ApiKey, version: Int16, release: KafkaRelease?)
    /// The request failed without an answer (connection, timeout, routing …).
    case client(KafkaClientError)
    /// The broker's answer left the item out.
    case missingFromAnswer(String)

    /// One line naming the item and the problem.
    public var description: String {
        switch self {
        case .invalidTopicName(let n, let why): return "invalid topic name \"\(n)\": \(why)"
        case .invalidArgument(let item, let why): return "\(item): \(why)"
        case .replicationFactorAboveBrokerCount(let t, let rf, let n):
            return "topic \(t): replication factor \(rf) is above the \(n) broker\(n == 1 ? "" : "s") in the cluster"
        case .duplicate(let item): return "\(item) named more than once"
        case .broker(let code, let message): return message.map { "\(code.name): \($0)" } ?? code.name
        case .unsupportedByBroker(let call, let api, let version, let release):
            let needs = release.map { "Kafka \($0.name) or newer" } ?? "a broker newer than any known release"
            return "\(call) needs \(api.name) v\(version)+, which the broker does not serve (\(needs))"
        case .client(let e): return "\(e)"
        case .missingFromAnswer(let item): return "the broker's answer left out \(item)"
        }
    }

    /// A broker error code as an item's outcome: nil for no error.
    static func from(_ code: Int16, message: String? = nil) -> KafkaAdminError? {
        code == 0 ? nil : .broker(KafkaErrorCode(code), message: message.flatMap { $0.isEmpty ? nil : $0 })
    }
}

extension KafkaAdmin {
    /// Sends `request` with the versions `pin` allows, naming the call in a version error.
    func send<R: KafkaRequest>(_ call: String, _ request: R, to target: RequestTarget = .automatic,
                               pin: ClosedRange<Int16>? = nil) async throws(KafkaAdminError) -> R.Response {
        do {
            return try await client.request(request, to: target, pin: pin)
        } catch .unsupportedVersion(let api, _) {
            let version = pin?.lowerBound ?? R.validVersions.lowerBound
            throw .unsupportedByBroker(call: call, api: api, version: version, release: Self.firstRelease(serving: api, version: version))
        } catch {
            throw .client(error)
        }
    }

    /// The oldest release in the table whose broker serves `version` of `api`.
    static func firstRelease(serving api: ApiKey, version: Int16) -> KafkaRelease? {
        KafkaRelease.all.sorted().first { $0.versions(api)?.contains(version) == true }
    }

    /// Kafka's topic-name rule, as a reason when broken.
    static func topicNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "empty" }
        if name == "." || name == ".." { return "\".\" and \"..\" are not allowed" }
        if name.utf8.count > 249 { return "longer than 249 characters" }
        for b in name.utf8 {
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x5F || b == 0x2D
            if !ok { return "only letters, digits, '.', '_' and '-' are allowed" }
        }
        return nil
    }

    /// Per item, in order: what keeps it from being sent (`check`'s problem, or its name
    /// seen earlier in the call), or nil.
    static func problems<Item>(_ items: [Item], name: (Item) -> String, check: (Item) -> KafkaAdminError?) -> [KafkaAdminError?] {
        var seen: Set<String> = []
        return items.map { item in
            let n = name(item)
            guard seen.insert(n).inserted else { return .duplicate(n) }
            return check(item)
        }
    }

    /// The results in the items' order: refused items with their problem, the others with
    /// what `answer` found for them in the broker's reply (missing: `missingFromAnswer`).
    static func results<Item, Value>(_ items: [Item], problems: [KafkaAdminError?], name: (Item) -> String,
                                     answer: (String) -> Result<Value, KafkaAdminError>?) -> [AdminResult<Value>] {
        items.indices.map { i in
            let n = name(items[i])
            if let p = problems[i] { return AdminResult(n, .failure(p)) }
            return AdminResult(n, answer(n) ?? .failure(.missingFromAnswer(n)))
        }
    }
}
