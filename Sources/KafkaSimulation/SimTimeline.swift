import FakeCluster
import KafkaProtocol

/// What a simulated run did on its virtual time axis, for `kgo sim run --timeline`: brokers'
/// down and cut-off periods, each partition's leader and epoch, the faults, each client's
/// connections, its requests (produce -> ack and fetch spans per partition too), group
/// members' generations, and the first invariant violation. Filled by `Simulation` and
/// `GroupSimulation` when set (like `SimTrace`, it only watches: nothing here feeds back, so
/// a run with a timeline takes the same steps as one without); drawn by `TimelineHTML`.
package final class SimTimeline {
    /// The rows are grouped in this order.
    package enum Section: Int, CaseIterable, Sendable {
        case brokers, partitions, faults, group, connections, requests

        var title: String {
            switch self {
            case .brokers: "Brokers"
            case .partitions: "Partitions: leader and epoch; produce and fetch spans"
            case .faults: "Faults"
            case .group: "Group members"
            case .connections: "Connections"
            case .requests: "Requests (written -> answered)"
            }
        }
    }

    /// What a span or mark is; it picks the colour.
    package enum Kind: String, Sendable {
        case down, isolated, leader, offline, connection, request, produce, fetch, member, generation, revoke, fault, lost
    }

    package struct Span: Sendable {
        package var lane: Int
        package var start: UInt64
        package var end: UInt64?
        package var label: String
        package var kind: Kind
        /// Colour index (a broker id for leaders).
        package var tone: Int = 0
    }

    package struct Mark: Sendable {
        package var lane: Int
        package var at: UInt64
        package var label: String
        package var kind: Kind
    }

    package struct Lane: Sendable {
        package var section: Section
        package var name: String
        /// Spans not drawn because the lane reached `spansPerLane`.
        package var dropped = 0
        var spans = 0
    }

    /// A lane holds at most this many spans (a 100,000-record run writes thousands of
    /// requests); the rest are counted and the picture says so.
    package static let spansPerLane = 4_000

    package private(set) var lanes: [Lane] = []
    package private(set) var spans: [Span] = []
    package private(set) var marks: [Mark] = []
    package private(set) var end: UInt64 = 0
    package private(set) var violation: (at: UInt64, text: String)?
    package let title: String

    private var laneIndex: [String: Int] = [:]
    /// Open spans by key.
    private var open: [String: Int] = [:]
    private var brokerState: [Int32: Kind] = [:]
    private var leaders: [TopicPartition: (leader: Int32, epoch: Int32)] = [:]
    /// Requests written and not yet answered, per link: correlation id -> span indices.
    private var inFlight: [UInt64: [Int32: [Int]]] = [:]
    /// Each link's fetch session: the partitions an incremental fetch leaves out.
    private var fetchSessions: [UInt64: [TopicPartition]] = [:]
    private var topicNames: [KafkaUUID: String] = [:]

    package init(title: String) { self.title = title }

    // MARK: recording

    package func lane(_ section: Section, _ name: String) -> Int {
        let key = "\(section.rawValue)|\(name)"
        if let i = laneIndex[key] { return i }
        lanes.append(Lane(section: section, name: name))
        laneIndex[key] = lanes.count - 1
        return lanes.count - 1
    }

    /// Opens a span, first closing any open span under the same key.
    @discardableResult
    package func begin(_ key: String, lane: Int, at: UInt64, label: String, kind: Kind, tone: Int = 0) -> Int? {
        finish(key, at: at)
        guard let i = add(Span(lane: lane, start: at, end: nil, label: label, kind: kind, tone: tone)) else { return nil }
        open[key] = i
        return i
    }

    package func finish(_ key: String, at: UInt64) {
        guard let i = open.removeValue(forKey: key) else { return }
        spans[i].end = at
        see(at)
    }

    package func mark(_ lane: Int, at: UInt64, _ label: String, kind: Kind) {
        marks.append(Mark(lane: lane, at: at, label: label, kind: kind))
        see(at)
    }

    package func fault(at: UInt64, _ text: String) {
        mark(lane(.faults, "faults"), at: at, text, kind: .fault)
    }

    /// The first violation only: the one a failing run reports.
    package func violated(at: UInt64, _ text: String) {
        guard violation == nil else { return }
        violation = (at, text)
        see(at)
    }

    /// Brokers' states now (every broker named, stopped and isolated ones flagged).
    package func brokers(_ ids: [Int32], stopped: [Int32], isolated: [Int32], at: UInt64) {
        for b in ids {
            let state: Kind = stopped.contains(b) ? .down : isolated.contains(b) ? .isolated : .connection
            let before = brokerState[b] ?? .connection
            guard state != before else { continue }
            brokerState[b] = state
            let key = "broker|\(b)"
            finish(key, at: at)
            if state != .connection {
                begin(key, lane: lane(.brokers, "broker \(b)"), at: at, label: state == .down ? "down" : "cut off", kind: state)
            }
        }
    }

    /// Each partition's leader and epoch now; a change starts a new span.
    package func leadership(_ partitions: [(TopicPartition, leader: Int32, epoch: Int32)], at: UInt64) {
        for (tp, leader, epoch) in partitions {
            if let l = leaders[tp], l.leader == leader, l.epoch == epoch { continue }
            leaders[tp] = (leader, epoch)
            let offline = leader < 0
            begin("leader|\(tp)", lane: lane(.partitions, "\(tp.topic)/\(tp.partition) leader"), at: at,
                  label: offline ? "offline, epoch \(epoch)" : "broker \(leader), epoch \(epoch)",
                  kind: offline ? .offline : .leader, tone: Int(leader))
        }
    }

    /// The leaders of every partition of these topics, read off the cluster.
    package func leadership(of cluster: FakeCluster, at: UInt64) {
        var all: [(TopicPartition, leader: Int32, epoch: Int32)] = []
        for t in cluster.topicNames {
            for p in 0 ..< (cluster.partitionCount(t) ?? 0) {
                let tp = TopicPartition(t, p)
                if let i = cluster.partitionInfo(tp) { all.append((tp, i.leader, i.epoch)) }
            }
        }
        leadership(all, at: at)
    }

    package func connected(link: UInt64, client: String, broker: String, at: UInt64) {
        begin("conn|\(link)", lane: lane(.connections, "\(client) - \(broker)"), at: at, label: "connection", kind: .connection)
    }

    package func refused(client: String, broker: String, at: UInt64) {
        mark(lane(.connections, "\(client) - \(broker)"), at: at, "connection refused", kind: .lost)
    }

    /// The link closed or was cut: its connection span ends, and requests on it end unanswered.
    package func disconnected(link: UInt64, at: UInt64) {
        finish("conn|\(link)", at: at)
        guard let pending = inFlight.removeValue(forKey: link) else { return }
        for i in pending.keys.sorted().flatMap({ pending[$0]! }) where spans[i].end == nil {
            spans[i].end = at
            spans[i].kind = .lost
            spans[i].label += " (no answer: connection closed)"
        }
        fetchSessions[link] = nil
    }

    /// Bytes a client wrote on a link: every whole request frame in them opens a span on the
    /// client's lane to that broker, and Produce and Fetch open one per partition too.
    package func wrote(_ bytes: [UInt8], link: UInt64, client: String, broker: String, cluster: FakeCluster?, at: UInt64) {
        for frame in Self.frames(bytes) {
            guard let parsed = try? parseRequestHeader(frame) else { continue }
            let header = parsed.header
            let api = header.requestApiKey
            let name = ApiKey(api).name
            var indices: [Int] = []
            let laneName = "\(client) - \(broker)"
            if let i = add(Span(lane: lane(.requests, laneName), start: at, end: nil, label: "\(name) v\(header.requestApiVersion)", kind: .request)) {
                indices.append(i)
            }
            for (tp, kind) in partitions(parsed, link: link, cluster: cluster) {
                let label = kind == .produce ? "\(client): produce -> ack (\(broker))" : "\(client): fetch (\(broker))"
                if let i = add(Span(lane: lane(.partitions, "\(tp.topic)/\(tp.partition) \(kind == .produce ? "produce" : "fetch")"),
                                    start: at, end: nil, label: label, kind: kind)) {
                    indices.append(i)
                }
            }
            inFlight[link, default: [:]][header.correlationId, default: []] += indices
        }
        see(at)
    }

    /// Bytes a client read on a link: each whole response frame ends its request's spans.
    package func read(_ bytes: [UInt8], link: UInt64, at: UInt64) {
        for frame in Self.frames(bytes) {
            guard let id = try? peekCorrelationId(frame), let done = inFlight[link]?.removeValue(forKey: id) else { continue }
            for i in done { spans[i].end = at }
        }
        see(at)
    }

    /// Everything still open ends where the run ended.
    package func close(at: UInt64) {
        see(at)
        for i in spans.indices where spans[i].end == nil { spans[i].end = end }
        open = [:]
        inFlight = [:]
    }

    // MARK: internals

    private func add(_ span: Span) -> Int? {
        see(span.start)
        guard lanes[span.lane].spans < Self.spansPerLane else {
            lanes[span.lane].dropped += 1
            return nil
        }
        lanes[span.lane].spans += 1
        spans.append(span)
        return spans.count - 1
    }

    private func see(_ t: UInt64) { end = max(end, t) }

    /// The partitions a Produce or Fetch names (an incremental fetch: its session's).
    private func partitions(_ parsed: ParsedRequestHeader, link: UInt64, cluster: FakeCluster?) -> [(TopicPartition, Kind)] {
        let version = parsed.header.requestApiVersion
        var body = parsed.body
        switch ApiKey(parsed.header.requestApiKey) {
        case .produce:
            guard let r = try? ProduceRequest(from: &body, version: version) else { return [] }
            return r.topicData.flatMap { t in t.partitionData.map { (TopicPartition(t.name, $0.index), Kind.produce) } }
        case .fetch:
            guard let r = try? FetchRequest(from: &body, version: version) else { return [] }
            var session = r.sessionEpoch > 0 ? fetchSessions[link] ?? [] : []
            for t in r.topics {
                let topic = t.topic.isEmpty ? name(of: t.topicId, cluster) : t.topic
                for p in t.partitions where !session.contains(TopicPartition(topic, p.partition)) {
                    session.append(TopicPartition(topic, p.partition))
                }
            }
            for f in r.forgottenTopicsData {
                let topic = f.topic.isEmpty ? name(of: f.topicId, cluster) : f.topic
                session.removeAll { $0.topic == topic && f.partitions.contains($0.partition) }
            }
            fetchSessions[link] = session
            return session.map { ($0, .fetch) }
        default:
            return []
        }
    }

    private func name(of id: KafkaUUID, _ cluster: FakeCluster?) -> String {
        if let n = topicNames[id] { return n }
        let n = cluster?.topicName(id: id) ?? "topic \(id)"
        topicNames[id] = n
        return n
    }

    /// The whole size-prefixed frames in `bytes`, without their prefix.
    static func frames(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var at = 0
        while at + 4 <= bytes.count {
            let size = Int(Int32(bitPattern: UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])))
            guard size >= 0, at + 4 + size <= bytes.count else { break }
            out.append(Array(bytes[at + 4 ..< at + 4 + size]))
            at += 4 + size
        }
        return out
    }
}
