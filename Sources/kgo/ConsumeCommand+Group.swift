import ArgumentParser
import Dispatch
import Foundation
import KafkaIO
import KafkaProtocol

/// `kgo consume -G GROUP`: a group member printing what the group gives it, until
/// SIGINT/SIGTERM (or -c / -e), then it commits what it printed and leaves.
extension ConsumeCommand {
    static func parseDuration(_ s: String, _ option: String) throws -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000)]
        for (suffix, ms) in units where s.hasSuffix(suffix) {
            if let n = Double(s.dropLast(suffix.count)), n > 0 { return .milliseconds(Int64(n * Double(ms))) }
        }
        if let n = Double(s), n > 0 { return .milliseconds(Int64(n * 1_000)) }
        throw ValidationError("\(option) wants a positive duration like 10s or 500ms, got \(s)")
    }

    func groupConfiguration() throws -> GroupConfiguration {
        var g = GroupConfiguration(groupId: group ?? "", topics: topic)
        g.patterns = regex
        g.excluding = exclude
        g.instanceId = instanceId
        guard let proto = GroupProtocol(rawValue: groupProtocol) else {
            throw ValidationError("--group-protocol is classic or consumer, got \(groupProtocol)")
        }
        g.groupProtocol = proto
        g.serverAssignor = serverAssignor
        g.startWithoutCommit = try Self.parseOffset(offset)
        g.sessionTimeout = try Self.parseDuration(sessionTimeout, "--session-timeout")
        g.heartbeatInterval = min(.seconds(3), g.sessionTimeout / 3)
        if !balancer.isEmpty {
            g.balancers = try balancer.map { name in
                guard let b = BuiltInBalancers.named(name) else {
                    throw ValidationError("unknown balancer \(name) (cooperative-sticky, sticky, range, roundrobin)")
                }
                return b
            }
        }
        do { try g.validate() } catch { throw ValidationError("\(error)") }
        return g
    }

    func runGroup() async throws {
        let g = try groupConfiguration()
        let (config, logger) = try connection.makeConfiguration { c in
            c.consumer.isolation = isolation == "read-committed" ? .readCommitted : .readUncommitted
        }
        let consumer = try KafkaGroupConsumer(configuration: config, group: g, logger: logger)
        // Stop signals: leave the group gracefully (commit, LeaveGroup), then exit.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { Task { await consumer.leave() } }
            s.resume()
            return s
        }
        defer { for s in sources { s.cancel() } }
        let assigned = AssignedPartitions()
        let verbose = connection.verbose
        let watcher = Task {
            for await e in consumer.events {
                switch e {
                case .assigned(let p): assigned.add(p)
                case .revoked(let p), .lost(let p): assigned.remove(p)
                default: break
                }
                if verbose { FileHandle.standardError.write(Data("kgo: group \(e)\n".utf8)) }
                if case .failed(let err) = e { FileHandle.standardError.write(Data("kgo: group failed: \(err)\n".utf8)) }
            }
        }
        let running = Task { try await consumer.run() }
        let ok = try await printRecords(poll: { await consumer.poll(timeout: $0) }, expected: { assigned.current })
        await consumer.leave()
        _ = await watcher.value
        try await running.value
        if !ok { throw ExitCode.failure }
    }
}

/// The partitions the group gave this member (kept by the event watcher, read by the loop).
final class AssignedPartitions: @unchecked Sendable {
    private let lock = NSLock()
    private var set: Set<TopicPartition> = []
    func add(_ p: [TopicPartition]) { lock.withLock { set.formUnion(p) } }
    func remove(_ p: [TopicPartition]) { lock.withLock { set.subtract(p) } }
    var current: Set<TopicPartition> { lock.withLock { set } }
}
