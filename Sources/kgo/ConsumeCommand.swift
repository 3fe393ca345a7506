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
    @Option(name: .short, parsing: .unconditionalSingleValue,
            help: "Start: beginning, end, N (exact), -N (N before the end), s@TS or @TS (the first record at or after TS ms); e@TS stops each partition at its first record at or after TS (give both as two -o).")
    var offsets: [String] = []
    @Option(name: .short, help: "Exit after this many records.")
    var count: Int?
    @Flag(name: .short, help: "Exit once every partition has been read to its end, or at the first partition error (status 1).")
    var exitAtEnd = false
    @Flag(name: .customShort("E"), help: "Do not exit on a partition error: report it, leave that partition (it counts as ended for -e) and read the others; the status is still 1.")
    var continueOnError = false
    @Option(name: .short, help: "Output format (kcat's): %s value, %S value length, %R value length as 4 big-endian bytes, %k key, %K key length, %t topic, %p partition, %o offset, %T timestamp, %h headers, %%; \\n \\r \\t \\xNN.")
    var format: String = "%s\\n"
    @Flag(name: .customShort("Z"), help: "Print a null key or value as NULL (an empty one prints as nothing).")
    var nullAsText = false
    @Flag(name: .customShort("J"), help: "Print each record as kcat's JSON envelope (topic, partition, offset, tstype, ts, broker, headers, key, payload); overrides -f.")
    var json = false
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
        _ = try endTimestamp()
        _ = try RecordFormat(format)
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

    /// The start -o (the one that is not e@), "beginning" when none is given.
    var offset: String { offsets.last(where: { !$0.hasPrefix("e@") }) ?? "beginning" }

    /// e@TS: where every partition stops; nil reads on.
    func endTimestamp() throws -> Int64? {
        let ends = offsets.filter { $0.hasPrefix("e@") }
        guard let last = ends.last else { return nil }
        guard ends.count == 1, let ts = Int64(last.dropFirst(2)), ts >= 0 else { throw ValidationError("-o e@TS wants one timestamp in ms, got \(ends.joined(separator: " "))") }
        guard group == nil else { throw ValidationError("-o e@TS does not go with -G") }
        return ts
    }

    static func parseOffset(_ s: String) throws -> StartOffset {
        switch s {
        case "beginning", "start": return .start
        case "end": return .end
        default:
            if s.hasPrefix("@") || s.hasPrefix("s@"), let ts = Int64(s.drop(while: { $0 != "@" }).dropFirst()), ts >= 0 { return .afterTimestamp(ts) }
            if s.hasPrefix("-"), let n = Int64(s.dropFirst()) { return .relativeToEnd(n) }
            if let n = Int64(s), n >= 0 { return .exact(n) }
            throw ValidationError("-o wants beginning, end, N, -N, s@TS, @TS or e@TS (TS in ms), got \(s)")
        }
    }

    func run() async throws {
        if group != nil { return try await runGroup() }
        let start = try Self.parseOffset(offset)
        let client = try connection.makeClient { c in
            c.consumer.isolation = isolation == "read-committed" ? .readCommitted : .readUncommitted
        }
        let ok: Bool
        do {
            // An unknown topic or a pattern matching nothing fails now rather than waiting
            // silently; -e also needs every partition up front.
            let found = try await partitions(client)
            if !partition.isEmpty {
                var assign: [TopicPartition: StartOffset] = [:]
                for t in topic { for p in partition { assign[TopicPartition(t, p)] = start } }
                client.assign(assign)
            } else {
                try client.consume(topics: topic, patterns: regex, excluding: exclude, from: start)
            }
            let expected = partition.isEmpty ? found : Set(topic.flatMap { t in partition.map { TopicPartition(t, $0) } })
            ok = try await printRecords(poll: { await client.poll(timeout: $0) }, expected: { expected })
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        if !ok { throw ExitCode.failure }
    }

    /// Every partition of the named topics and of the topics the patterns match; throws
    /// for a topic the cluster does not have and for a pattern that matches no topic.
    func partitions(_ client: KafkaClient) async throws -> Set<TopicPartition> {
        var m = MetadataRequest()
        m.topics = regex.isEmpty ? topic.map { var t = MetadataRequest.MetadataRequestTopic(); t.name = $0; return t } : nil
        m.allowAutoTopicCreation = false
        let r = try await client.request(m)
        let patterns = try regex.map { try Regex($0) }
        let excluded = try exclude.map { try Regex($0) }
        var found: Set<TopicPartition> = []
        var known: Set<String> = []
        var matched = Array(repeating: false, count: patterns.count)
        for t in r.topics {
            guard let name = t.name, t.errorCode != KafkaErrorCode.unknownTopicOrPartition.rawValue else { continue }
            let code = KafkaErrorCode(t.errorCode)
            if t.errorCode != 0 && !code.isRetriable && topic.contains(name) { throw KgoFailure("topic \(name): \(code)") }
            known.insert(name)
            let hits = name.hasPrefix("__") ? [] : patterns.indices.filter { name.wholeMatch(of: patterns[$0]) != nil }
            guard topic.contains(name) || !hits.isEmpty, !excluded.contains(where: { name.wholeMatch(of: $0) != nil }) else { continue }
            for i in hits { matched[i] = true }
            for p in t.partitions { found.insert(TopicPartition(name, p.partitionIndex)) }
        }
        if let missing = topic.first(where: { !known.contains($0) }) { throw ConsumeError.unknownTopic(missing) }
        if let i = matched.firstIndex(of: false) { throw ConsumeError.noMatch(regex[i]) }
        return found
    }

    /// Prints what `poll` returns in the -f format until -c records, -e (every partition of
    /// `expected()` read to its end; an empty set never ends; or the first partition error
    /// unless -E), e@TS (every partition past TS, or with -e at its end) or the client
    /// closes. False when a partition failed or data was lost.
    func printRecords(poll: (Duration) async -> ConsumerPoll, expected: () -> Set<TopicPartition>) async throws -> Bool {
        let out = FileHandle.standardOutput
        var buffer: [UInt8] = []
        var printed = 0
        var ended: Set<TopicPartition> = []
        var failed: [TopicPartition: ConsumerPartitionError] = [:]
        var lost = false
        var template = try RecordFormat(format)
        template.nullAsText = nullAsText
        let endTimestamp = try endTimestamp()
        // Partitions done with: past e@TS, or failed under -E.
        var finished: Set<TopicPartition> = []
        loop: while true {
            let poll = await poll(.seconds(1))
            for loss in poll.dataLoss {
                lost = true
                FileHandle.standardError.write(Data("kgo: error: \(loss)\n".utf8))
            }
            for p in poll.partitions {
                let tp = TopicPartition(p.topic, p.partition)
                for r in p.records {
                    if finished.contains(tp) { break }
                    if let endTimestamp, r.timestamp >= endTimestamp {
                        finished.insert(tp)
                        break
                    }
                    if json {
                        RecordFormat.json(topic: p.topic, partition: p.partition, record: r, into: &buffer)
                    } else {
                        template.render(topic: p.topic, partition: p.partition, record: r, into: &buffer)
                    }
                    printed += 1
                    if let count, printed >= count { break }
                }
                // A stopped partition reports its error on every poll: say it once.
                if let e = p.error, failed[tp] != e {
                    failed[tp] = e
                    out.write(Data(buffer)); buffer.removeAll(keepingCapacity: true)
                    FileHandle.standardError.write(Data("kgo: error: \(p.topic) [\(p.partition)] at offset \(p.nextOffset): \(e)\n".utf8))
                    if continueOnError { finished.insert(tp) } else if exitAtEnd { break loop }
                }
                if p.atEnd { ended.insert(tp) } else if !p.records.isEmpty { ended.remove(tp) }
                if buffer.count > 1 << 16 { out.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
                if let count, printed >= count { break loop }
            }
            if !buffer.isEmpty { out.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
            let want = expected()
            if (exitAtEnd || endTimestamp != nil) && !want.isEmpty && want.isSubset(of: finished.union(exitAtEnd ? ended : [])) { break }
            if poll.closed { break }
        }
        if !buffer.isEmpty { out.write(Data(buffer)) }
        return failed.isEmpty && !lost
    }
}

/// Why `kgo consume` cannot start.
enum ConsumeError: Error, CustomStringConvertible {
    case unknownTopic(String)
    case noMatch(String)

    var description: String {
        switch self {
        case .unknownTopic(let t): "unknown topic \(t)"
        case .noMatch(let r): "no topic matches -r \(r)"
        }
    }
}
