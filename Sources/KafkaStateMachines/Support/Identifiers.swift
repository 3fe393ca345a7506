/// A connection, named by the engine when it asks the driver to open one.
package struct ConnectionID: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "conn\(rawValue)" }
}

/// The caller's name for a request; the engine answers it with exactly one `.complete`.
package struct PromiseID: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: PromiseID, b: PromiseID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "promise\(rawValue)" }
}

/// A broker: a configured seed (before metadata tells us node ids) or a cluster node.
public enum BrokerID: Comparable, Hashable, Sendable, CustomStringConvertible {
    case seed(Int)
    case node(Int32)
    public var description: String {
        switch self {
        case .seed(let i): return "seed\(i)"
        case .node(let n): return "node\(n)"
        }
    }
}

public struct BrokerAddress: Hashable, Sendable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Why a connection exists. Requests of one purpose share a connection; purposes never
/// share, so a group join parked at the coordinator for a rebalance cannot hold back a
/// fetch or a produce behind it on the same ordered TCP stream.
package enum ConnectionPurpose: Int, Comparable, Hashable, Sendable, CaseIterable {
    case general, produce, fetch, group

    public static func < (a: ConnectionPurpose, b: ConnectionPurpose) -> Bool { a.rawValue < b.rawValue }

    /// The purpose a request travels on by default.
    public static func of(_ apiKey: ApiKey) -> ConnectionPurpose {
        switch apiKey {
        case .produce: return .produce
        case .fetch: return .fetch
        // Broker-side these block for up to the rebalance / session timeout.
        case .joinGroup, .syncGroup, .consumerGroupHeartbeat: return .group
        default: return .general
        }
    }
}
