import ArgumentParser
import Foundation
import KafkaIO
import KafkaProtocol

/// `kgo consume`: kcat-like consumer, direct or (with -G) in a consumer group.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print records of topics (or topics matching -r), kcat style.")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .short, help: "Topic to consume (repeat for more).")
    var topic: [String] = []
    @Option(name: .short, help: "Consume topics whose whole name matches this regular expression (repeatable).")
    var regex: [String] = []
    @Option(name: .customLong("exclude"), help: "Skip topics matching this regular expression (with -r).")
    var exclude: [String] = []
    @Option(name: .short, help: "Only this partition (repeatable; needs -t).")
    var partition: [Int32] = []
    @Option(name: .short, parsing: .unconditional, help: "Start: beginning, end, N (exact), -N (N before the end), @TIMESTAMP_MS.")
    var offset: String = "beginning"
    @Option(name: .short, help: "Exit after this many records.")
    var count: Int?
    @Flag(name: .short, help: "Exit once every partition has been read to its end.")
    var exitAtEnd = false
    @Option(name: .short, help: "Output format: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp, %h headers, \\n, \\t.")
    var format: String = "%v\\n"
    @Option(help: "read-uncommitted or read-committed.")
    var isolation: String = "read-uncommitted"
    @Option(name: .customShort("G"), help: "Consume as a member of this consumer group (until SIGINT/SIGTERM, then commit and leave); -o is where partitions without a committed offset start.")
    var group: String?
    @Option(help: "Group balancer, in preference order (repeatable): cooperative-sticky, sticky, range, roundrobin.")
    var balancer: [String] = []
    @Option(name: .customLong("session-timeout"), help: "Group session timeout, e.g. 10s or 45000ms.")
    var sessionTimeout: String = "45s"
    @Option(name: .customLong("instance-id"), help: "Static group membership (KIP-345): this member's instance id.")
    var instanceId: String?
    @Option(name: .customLong("group-protocol"), help: "Group membership protocol: classic (JoinGroup/SyncGroup, any broker) or consumer (KIP-848, Kafka 4.0+).")
    var groupProtocol: String = "classic"
    @Option(name: .customLong("server-assignor"), help: "With --group-protocol consumer: the coordinator's assignor (uniform, range).")
    var serverAssignor: String?

    func validate() throws {
        guard !topic.isEmpty || !regex.isEmpty else { throw ValidationError("name a topic with -t or a pattern with -r") }
        guard partition.isEmpty || !topic.isEmpty else { throw ValidationError("-p needs -t") }
        _ = try Self.parseOffset(offset)
        guard isolation == "read-committed" || isolation == "read-uncommitted" else {
            throw ValidationError("--isolation is read-committed or read-uncommitted")
        }
        if group != nil {
            guard partition.isEmpty else { throw ValidationError("-p and -G do not go together: the group assigns partitions") }
            _ = try groupConfiguration()
        } else if !balancer.isEmpty || instanceId != nil {
            throw ValidationError("--balancer and --instance-id need -G GROUP")
        }
    }

    static func parseOffset(_ s: String) throws -> StartOffset {
        switch s {
        case "beginning", "start": return .start
        case "end": return .end
        default:
            if s.hasPrefix("@"), let ts = Int64(s.dropFirst()) { return .afterTimestamp(ts) }
            if s.hasPrefix("-"), let n = Int64(s.dropFirst()) { return .relativeToEnd(n) }
            if let n = Int64(s), n >= 0 { return .exact(n) }
            throw ValidationError("-o wants beginning, end, N, -N or @TIMESTAMP_MS, got \(s)")
        }
    }

    func run() async throws {
        if group != nil { return try await runGroup() }
        let start = try Self.parseOffset(offset)
        let client = try connection.makeClient { c in
            c.consumer.isolation = isolation == "read-committed" ? .readCommitted : .readUncommitted
        }
        defer { Task { await client.close() } }
        // -e needs every partition's count up front.
        var expected: Set<TopicPartition> = []
        if !partition.isEmpty {
            var assign: [TopicPartition: StartOffset] = [:]
            for t in topic { for p in partition { assign[TopicPartition(t, p)] = start } }
            expected = Set(assign.keys)
            client.assign(assign)
        } else {
            try client.consume(topics: topic, patterns: regex, excluding: exclude, from: start)
            if exitAtEnd {
                var m = MetadataRequest()
                m.topics = regex.isEmpty ? topic.map { var t = MetadataRequest.MetadataRequestTopic(); t.name = $0; return t } : nil
                m.allowAutoTopicCreation = false
                let r = try await client.request(m)
                let patterns = try regex.map { try Regex($0) }
                let excluded = try exclude.map { try Regex($0) }
                for t in r.topics {
                    guard let name = t.name, t.errorCode == 0 else { continue }
                    let named = topic.contains(name)
                    let matched = !name.hasPrefix("__") && patterns.contains { name.wholeMatch(of: $0) != nil }
                    guard named || matched, !excluded.contains(where: { name.wholeMatch(of: $0) != nil }) else { continue }
                    for p in t.partitions { expected.insert(TopicPartition(name, p.partitionIndex)) }
                }
            }
        }
        await printRecords(poll: { await client.poll(timeout: $0) }, expected: { expected })
        await client.close()
    }

    /// Prints what `poll` returns in the -f format until -c records, -e (every partition of
    /// `expected()` read to its end; an empty set never ends) or the client closes.
    func printRecords(poll: (Duration) async -> ConsumerPoll, expected: () -> Set<TopicPartition>) async {
        let out = FileHandle.standardOutput
        var buffer: [UInt8] = []
        var printed = 0
        var ended: Set<TopicPartition> = []
        let template = Self.compile(format)
        loop: while true {
            let poll = await poll(.seconds(1))
            for loss in poll.dataLoss { FileHandle.standardError.write(Data("kgo: \(loss)\n".utf8)) }
            for p in poll.partitions {
                let tp = TopicPartition(p.topic, p.partition)
                for r in p.records {
                    Self.render(template, topic: p.topic, partition: p.partition, record: r, into: &buffer)
                    printed += 1
                    if let count, printed >= count { break }
                }
                if let e = p.error { FileHandle.standardError.write(Data("kgo: \(tp): \(e)\n".utf8)) }
                if p.atEnd { ended.insert(tp) } else if !p.records.isEmpty { ended.remove(tp) }
                if buffer.count > 1 << 16 { out.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
                if let count, printed >= count { break loop }
            }
            if !buffer.isEmpty { out.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
            let want = expected()
            if exitAtEnd && !want.isEmpty && want.isSubset(of: ended) { break }
            if poll.closed { break }
        }
        if !buffer.isEmpty { out.write(Data(buffer)) }
    }

    enum Piece { case literal([UInt8]), topic, partition, offset, key, value, timestamp, headers }

    static func compile(_ format: String) -> [Piece] {
        var pieces: [Piece] = []
        var lit: [UInt8] = []
        var chars = Array(format.utf8)[...]
        func flush() { if !lit.isEmpty { pieces.append(.literal(lit)); lit = [] } }
        while let c = chars.popFirst() {
            if c == UInt8(ascii: "%"), let n = chars.first {
                let piece: Piece? = switch n {
                case UInt8(ascii: "t"): .topic
                case UInt8(ascii: "p"): .partition
                case UInt8(ascii: "o"): .offset
                case UInt8(ascii: "k"): .key
                case UInt8(ascii: "v"): .value
                case UInt8(ascii: "T"): .timestamp
                case UInt8(ascii: "h"): .headers
                default: nil
                }
                if let piece { flush(); pieces.append(piece); chars.removeFirst(); continue }
                if n == UInt8(ascii: "%") { lit.append(n); chars.removeFirst(); continue }
            }
            if c == UInt8(ascii: "\\"), let n = chars.first {
                switch n {
                case UInt8(ascii: "n"): lit.append(10); chars.removeFirst(); continue
                case UInt8(ascii: "t"): lit.append(9); chars.removeFirst(); continue
                case UInt8(ascii: "\\"): lit.append(n); chars.removeFirst(); continue
                default: break
                }
            }
            lit.append(c)
        }
        flush()
        return pieces
    }

    static func render(_ pieces: [Piece], topic: String, partition: Int32, record r: Record, into out: inout [UInt8]) {
        for piece in pieces {
            switch piece {
            case .literal(let l): out.append(contentsOf: l)
            case .topic: out.append(contentsOf: topic.utf8)
            case .partition: out.append(contentsOf: String(partition).utf8)
            case .offset: out.append(contentsOf: String(r.offset).utf8)
            case .key: if let k = r.key { out.append(contentsOf: k) }
            case .value: if let v = r.value { out.append(contentsOf: v) }
            case .timestamp: out.append(contentsOf: String(r.timestamp).utf8)
            case .headers:
                let hs = r.headers.map { h in h.key + "=" + (h.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }
                out.append(contentsOf: hs.joined(separator: ",").utf8)
            }
        }
    }
}
