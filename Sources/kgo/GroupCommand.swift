import ArgumentParser
import KafkaIO
import KafkaProtocol
import KafkaStateMachines

/// `kgo group`: consumer groups.
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Consumer groups.",
        subcommands: [Describe.self, List.self, Delete.self, Lag.self, Seek.self])

    /// `kgo group describe -b … GROUP`: state, members and their assignments, committed
    /// offsets and lag; for a KIP-848 consumer group also the member epochs, target
    /// assignments and the assignor.
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "describe",
            abstract: "Print a group's state, members, assignments (KIP-848 groups: epochs, targets, assignor), committed offsets and lag.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The group id.")
        var group: String

        func run() async throws {
            let described = try await connection.withClient { client in try await Self.described(group, client) }
            if output.json { try output.printJSON(described.json) } else { print(described.text, terminator: "") }
        }

        /// What the command prints, as text lines and as one JSON object (the same facts).
        struct Described {
            var text = ""
            var json: [String: Any] = [:]
        }

        static func described(_ group: String, _ client: KafkaClient) async throws -> Described {
            // A KIP-848 consumer group is described by ConsumerGroupDescribe (epochs, target
            // assignment, assignor); a classic group (or a broker without the API) answers
            // GROUP_ID_NOT_FOUND there, and DescribeGroups describes it.
            var out: Described
            if let consumerGroup = try await Self.describeConsumerGroup(group, client) {
                out = consumerGroup
            } else {
                out = try await Self.describeClassicGroup(group, client)
            }
            // Committed offsets (every partition the group committed) and the ends they trail.
            let committed = try await Self.committedOffsets(group, client)
            guard !committed.isEmpty else {
                out.text += "no committed offsets\n"
                out.json["offsets"] = [[String: Any]]()
                out.json["totalLag"] = 0
                return out
            }
            var l = ListOffsetsRequest()
            l.replicaId = -1
            var byTopic: [String: [Int32]] = [:]
            for tp in committed.keys { byTopic[tp.topic, default: []].append(tp.partition) }
            l.topics = byTopic.keys.sorted().map { name in
                var t = ListOffsetsRequest.ListOffsetsTopic()
                t.name = name
                t.partitions = byTopic[name]!.sorted().map { var p = ListOffsetsRequest.ListOffsetsPartition(); p.partitionIndex = $0; p.timestamp = -1; return p }
                return t
            }
            let ends = try await client.request(l)
            var end: [TopicPartition: Int64] = [:]
            for t in ends.topics { for p in t.partitions where p.errorCode == 0 { end[TopicPartition(t.name, p.partitionIndex)] = p.offset } }
            out.text += "topic partition committed end lag\n"
            var total: Int64 = 0
            var offsets: [[String: Any]] = []
            for tp in committed.keys.sorted() {
                let c = committed[tp]!
                let e = end[tp]
                let lag = e.map { max(0, $0 - c) }
                total += lag ?? 0
                out.text += "\(tp.topic) \(tp.partition) \(c) \(e.map(String.init) ?? "?") \(lag.map(String.init) ?? "?")\n"
                var o: [String: Any] = ["topic": tp.topic, "partition": tp.partition, "committed": c]
                if let e { o["end"] = e }
                if let lag { o["lag"] = lag }
                offsets.append(o)
            }
            out.text += "total lag \(total)\n"
            out.json["offsets"] = offsets
            out.json["totalLag"] = total
            return out
        }
    }
}

extension GroupCommand.Describe {
    static func partitionsJSON(_ parts: [TopicPartition]) -> [[String: Any]] {
        parts.map { ["topic": $0.topic, "partition": $0.partition] }
    }

    /// DescribeGroups: state, protocol, members and their assignments (classic groups).
    static func describeClassicGroup(_ group: String, _ client: KafkaClient) async throws -> Described {
        var d = DescribeGroupsRequest()
        d.groups = [group]
        let described = try await client.request(d, to: .groupCoordinator(group))
        guard let g = described.groups.first else { throw RuntimeFailure("no answer for group \(group)") }
        let code = KafkaErrorCode(g.errorCode)
        guard code == .noError else { throw RuntimeFailure("describing group \(group): \(code)") }
        var out = Described()
        out.text = "group \(g.groupId): state \(g.groupState), protocol type \(g.protocolType.isEmpty ? "-" : g.protocolType), protocol \(g.protocolData.isEmpty ? "-" : g.protocolData), \(g.members.count) members\n"
        var members: [[String: Any]] = []
        for m in g.members.sorted(by: { $0.memberId < $1.memberId }) {
            let parts = (try? ConsumerProtocol.decodeAssignment(m.memberAssignment).partitions) ?? []
            let list = parts.map { "\($0.topic)/\($0.partition)" }.joined(separator: ",")
            out.text += "  member \(m.memberId)\(m.groupInstanceId.map { " instance \($0)" } ?? "") client \(m.clientId) \(m.clientHost): \(list.isEmpty ? "(none)" : list)\n"
            var member: [String: Any] = ["memberId": m.memberId, "clientId": m.clientId, "clientHost": m.clientHost, "assignment": partitionsJSON(parts)]
            if let i = m.groupInstanceId { member["instanceId"] = i }
            members.append(member)
        }
        out.json = ["group": g.groupId, "groupProtocol": "classic", "state": g.groupState, "protocolType": g.protocolType,
                    "protocol": g.protocolData, "members": members]
        return out
    }

    /// ConsumerGroupDescribe (KIP-848): the group and assignment epochs, the assignor, and per
    /// member its epoch, subscription, assignment and target assignment. nil when the group is
    /// not a consumer group or the coordinator lacks the API.
    static func describeConsumerGroup(_ group: String, _ client: KafkaClient) async throws -> Described? {
        var d = ConsumerGroupDescribeRequest()
        d.groupIds = [group]
        guard let described = try await Self.request(d, group, client) else { return nil }
        guard let g = described.groups.first else { throw RuntimeFailure("no answer for group \(group)") }
        let code = KafkaErrorCode(g.errorCode)
        if code == .groupIdNotFound { return nil }
        guard code == .noError else { throw RuntimeFailure("describing group \(group): \(code)\(g.errorMessage.map { " (\($0))" } ?? "")") }
        func partitions(_ a: ConsumerGroupDescribeResponse.Assignment) -> [TopicPartition] {
            a.topicPartitions.sorted { $0.topicName < $1.topicName }.flatMap { t in t.partitions.sorted().map { TopicPartition(t.topicName, $0) } }
        }
        func list(_ a: ConsumerGroupDescribeResponse.Assignment) -> String {
            let parts = partitions(a).map { "\($0.topic)/\($0.partition)" }
            return parts.isEmpty ? "(none)" : parts.joined(separator: ",")
        }
        var out = Described()
        out.text = "group \(g.groupId): consumer protocol (KIP-848), state \(g.groupState), group epoch \(g.groupEpoch), assignment epoch \(g.assignmentEpoch), assignor \(g.assignorName.isEmpty ? "-" : g.assignorName), \(g.members.count) members\n"
        var members: [[String: Any]] = []
        for m in g.members.sorted(by: { $0.memberId < $1.memberId }) {
            let subscribed = m.subscribedTopicRegex.map { "regex \($0)" } ?? m.subscribedTopicNames.sorted().joined(separator: ",")
            out.text += "  member \(m.memberId)\(m.instanceId.map { " instance \($0)" } ?? "") client \(m.clientId) \(m.clientHost) epoch \(m.memberEpoch)"
            out.text += " subscribed \(subscribed.isEmpty ? "-" : subscribed): \(list(m.assignment)), target \(list(m.targetAssignment))\n"
            var member: [String: Any] = ["memberId": m.memberId, "clientId": m.clientId, "clientHost": m.clientHost, "memberEpoch": m.memberEpoch,
                                         "subscribedTopics": m.subscribedTopicNames.sorted(),
                                         "assignment": partitionsJSON(partitions(m.assignment)),
                                         "targetAssignment": partitionsJSON(partitions(m.targetAssignment))]
            if let i = m.instanceId { member["instanceId"] = i }
            if let r = m.subscribedTopicRegex { member["subscribedTopicRegex"] = r }
            members.append(member)
        }
        out.json = ["group": g.groupId, "groupProtocol": "consumer", "state": g.groupState, "groupEpoch": g.groupEpoch,
                    "assignmentEpoch": g.assignmentEpoch, "assignor": g.assignorName, "members": members]
        return out
    }

    /// ConsumerGroupDescribe on the group's coordinator; nil when it lacks the API.
    static func request(_ d: ConsumerGroupDescribeRequest, _ group: String, _ client: KafkaClient) async throws -> ConsumerGroupDescribeResponse? {
        do {
            return try await client.request(d, to: .groupCoordinator(group))
        } catch KafkaClientError.unsupportedVersion {
            return nil
        }
    }

    /// Every committed offset of the group: OffsetFetch with all topics, in the v8+ form
    /// where the broker has it (Tansu answers the v2-v7 form's all-topics ask with a null
    /// list, which the schema does not allow), else v2-v7.
    static func committedOffsets(_ group: String, _ client: KafkaClient) async throws -> [TopicPartition: Int64] {
        var committed: [TopicPartition: Int64] = [:]
        var f = OffsetFetchRequest()
        var g = OffsetFetchRequest.OffsetFetchRequestGroup()
        g.groupId = group
        g.topics = nil
        f.groups = [g]
        do {
            let r = try await client.request(f, to: .groupCoordinator(group), pin: 8 ... 9)
            for rg in r.groups where rg.groupId == group {
                let code = KafkaErrorCode(rg.errorCode)
                guard code == .noError else { throw RuntimeFailure("fetching committed offsets of \(group): \(code)") }
                for t in rg.topics { for p in t.partitions where p.committedOffset >= 0 { committed[TopicPartition(t.name, p.partitionIndex)] = p.committedOffset } }
            }
            return committed
        } catch KafkaClientError.unsupportedVersion {
            var old = OffsetFetchRequest()
            old.groupId = group
            old.topics = nil
            let r = try await client.request(old, to: .groupCoordinator(group), pin: 2 ... 7)
            let top = KafkaErrorCode(r.errorCode)
            guard top == .noError else { throw RuntimeFailure("fetching committed offsets of \(group): \(top)") }
            for t in r.topics { for p in t.partitions where p.committedOffset >= 0 { committed[TopicPartition(t.name, p.partitionIndex)] = p.committedOffset } }
            return committed
        }
    }
}

/// A failure at run time (not a usage error): printed without the usage text, exit 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
