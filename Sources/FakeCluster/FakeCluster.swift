@_exported import KafkaProtocol

/// One client connection to one fake broker.
public struct FakeConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: UInt64
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public var description: String { "conn#\(value)" }
}

/// What the cluster asks its driver to do.
public enum FakeOutput: Equatable, Sendable {
    case send(FakeConnectionID, [UInt8])
    /// Close the connection (after sending what came before); `reason` is for the log.
    case close(FakeConnectionID, reason: String)
}

/// An in-process Kafka cluster fed request bytes and virtual time, returning response
/// bytes. Pure and deterministic: no clocks, threads or system randomness; the same
/// config, seed and inputs give the same outputs.
///
/// Responses on a connection leave in request order, as a real broker's do: a held-back
/// response (a JoinGroup waiting for the rebalance, a Fetch waiting for min bytes) holds
/// back the later ones on that connection.
public struct FakeCluster: Sendable {
    public let config: FakeClusterConfig
    var state: ClusterState
    var connections: [FakeConnectionID: Connection] = [:]
    var nextConnectionId: UInt64 = 1
    var parked: [UInt64: Parked] = [:]
    var nextSlot: UInt64 = 1
    var groupTokens: [ParkedToken: UInt64] = [:]
    var faults = FaultTable()
    /// Records Produce refuses one by one (KIP-467), armed by `rejectRecords`.
    var rejections = RecordRejections()
    /// Group faults: stalled heartbeats, errors pushed per group, members' connections.
    var groupFaults = GroupFaultTable()
    /// KIP-219 throttles armed by tests, and the responses that carried one (see Throttle.swift).
    var throttles = ThrottleTable()
    var throttledResponses: [ThrottledResponseKey: Int32] = [:]
    /// Brokers cut off from clients: their connections are refused and reset.
    var isolated: Set<Int32> = []
    /// Brokers running another release than `config.release` (a rolling upgrade under way,
    /// `upgradeBroker`). Looked up only.
    var brokerReleases: [Int32: KafkaRelease] = [:]
    /// SCRAM stored credentials by "mechanism:user", computed on first login.
    var scramCache: [String: (storedKey: [UInt8], serverKey: [UInt8])] = [:]
    /// Every decoded request and response when `config.recordEvents`.
    public internal(set) var events: [FakeEvent] = []
    /// Why each connection the cluster closed was closed, in order (the TCP driver logs these).
    public internal(set) var closeLog: [String] = []

    public init(_ config: FakeClusterConfig) {
        self.config = config
        var c = ClusterState.Config()
        c.group.initialRebalanceDelayMs = config.initialRebalanceDelayMs
        c.transactionMarkerDelayMs = config.transactionMarkerDelayMs
        c.transactionCoordinatorLoadMs = config.transactionCoordinatorLoadMs
        c.reassignmentMs = config.reassignmentMs
        c.logDirs = config.logDirs.isEmpty ? ["/var/lib/kafka/data"] : config.logDirs
        c.group.minSessionTimeoutMs = config.minSessionTimeoutMs
        c.group.offsetsRetentionMs = config.offsetsRetentionMs
        c.group.offsetsRetentionCheckIntervalMs = config.offsetsRetentionCheckIntervalMs
        c.group.consumerSessionTimeoutMs = config.consumerGroupSessionTimeoutMs
        c.group.consumerHeartbeatIntervalMs = config.consumerGroupHeartbeatIntervalMs
        c.group.migrationPolicy = config.consumerGroupMigrationPolicy
        let brokers = config.brokers.map {
            ClusterMetadata.Broker(nodeId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack)
        }
        state = ClusterState(brokers: brokers, seed: config.seed, config: c, autoCreateTopics: config.autoCreateTopics)
        var finalized = config.finalizedFeatures
        if config.transactionVersion > 0 { finalized["transaction.version"] = config.transactionVersion }
        state.features = FeatureLevels(supported: config.supportedFeatures, finalized: finalized)
        for t in config.topics {
            _ = state.createTopic(name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor,
                                  configs: t.configs)
        }
    }

    // MARK: connections

    /// A client connected to `broker`. Returns nil for an unknown broker id.
    public mutating func connect(broker: Int32) -> FakeConnectionID? {
        guard state.metadata.broker(broker) != nil else { return nil }
        let id = FakeConnectionID(value: nextConnectionId)
        nextConnectionId += 1
        connections[id] = Connection(broker: broker, maxFrameSize: config.maxFrameSize)
        return id
    }

    /// Whether a new connection to `broker` would be accepted (it is up and not cut off).
    public func isReachable(broker: Int32) -> Bool {
        state.metadata.isUp(broker) && !isolated.contains(broker)
    }

    /// The client closed the connection (or it broke): its held-back responses are dropped.
    public mutating func disconnect(_ id: FakeConnectionID) {
        connections[id] = nil
        for slot in parked.keys.sorted() where parked[slot]!.connection == id { parked[slot] = nil }
    }

    public var openConnections: [FakeConnectionID] { connections.keys.sorted() }

    /// Bytes arrived on a connection.
    public mutating func receive<C: Collection>(_ id: FakeConnectionID, _ bytes: C, now: Instant) -> [FakeOutput]
    where C.Element == UInt8 {
        guard connections[id] != nil else { return [] }
        var out: [FakeOutput] = []
        guard isReachable(broker: connections[id]!.broker) else {
            close(id, "broker \(connections[id]!.broker) is down or cut off", into: &out)
            return out
        }
        connections[id]!.splitter.append(bytes)
        processFrames(id, now: now, into: &out)
        settle(now: now, into: &out)
        return out
    }

    /// Handles the complete frames received on a connection, unless it is muted (KIP-219
    /// throttling): then they wait in the splitter until the throttle ends.
    mutating func processFrames(_ id: FakeConnectionID, now: Instant, into out: inout [FakeOutput]) {
        // By position, looked up again each turn (a frame's handling may close the
        // connection): reading `connections[id]!.field` copies the whole connection.
        while let i = connections.index(forKey: id) {
            if let until = connections.values[i].mutedUntil {
                guard now >= until else { break }
                connections.values[i].mutedUntil = nil
            }
            let frame: [UInt8]?
            do { frame = try connections.values[i].splitter.nextFrame() } catch {
                close(id, "bad frame: \(error)", into: &out)
                break
            }
            guard let frame else { break }
            handleFrame(id, frame, now: now, into: &out)
        }
    }

    /// Virtual time advanced: timers fire (group sessions, rebalances, transactions, held
    /// fetches and produces, delayed responses).
    public mutating func tick(now: Instant) -> [FakeOutput] {
        var out: [FakeOutput] = []
        let r = state.tick(now: now)
        deliverGroupCompletions(r.groupCompletions, into: &out)
        unmuteExpired(now: now, into: &out)
        settle(now: now, into: &out)
        return out
    }

    /// When `tick` next has something to do.
    public var nextDeadline: Instant? {
        var d = earliest(earliest(state.groups.nextDeadline, state.transactions.nextDeadline), state.nextLagDeadline)
        d = earliest(earliest(d, state.nextMarkerDeadline), state.nextPendingMarkerRetry)
        d = earliest(d, state.nextReassignmentDeadline)
        for p in parked.values { d = earliest(d, p.deadline) }
        return earliest(d, nextUnmute)
    }

    // MARK: internals

    mutating func close(_ id: FakeConnectionID, _ reason: String, into out: inout [FakeOutput]) {
        guard connections[id] != nil else { return }
        flush(id, into: &out)
        disconnect(id)
        closeLog.append("\(id): \(reason)")
        out.append(.close(id, reason: reason))
    }

    /// Re-evaluates held requests after anything changed, then sends what is ready.
    mutating func settle(now: Instant, into out: inout [FakeOutput]) {
        deliverGroupCompletions(state.groups.takeCompletions(), into: &out)
        for slot in parked.keys.sorted() {
            guard let p = parked[slot] else { continue }
            switch retry(p, now: now) {
            case .wait: continue
            case .respond(var r):
                parked[slot] = nil
                if let charge = p.quota {
                    switch enforceQuota(r, charge, connection: p.connection, broker: p.broker, apiKey: p.apiKey, version: p.version,
                                        correlationId: p.correlationId, now: now) {
                    case .send(let sent): r = sent
                    case .hold(let held, let until):
                        // An old client's answer waits out its throttle in the slot it holds.
                        recordParked(p, held)
                        parked[slot] = Parked(connection: p.connection, broker: p.broker, apiKey: p.apiKey, version: p.version,
                                              correlationId: p.correlationId, deadline: until, work: .delayed(encode(held, p)))
                        continue
                    }
                }
                recordParked(p, r)
                fill(slot, p.connection, encode(r, p))
            case .ready(let state): parked[slot] = nil; fill(slot, p.connection, state)
            }
        }
        for id in connections.keys.sorted() { flush(id, into: &out) }
    }

    mutating func deliverGroupCompletions(_ completions: [GroupCoordinator.Completion], into out: inout [FakeOutput]) {
        for c in completions {
            guard let slot = groupTokens.removeValue(forKey: c.token), let p = parked.removeValue(forKey: slot) else { continue }
            let response: any KafkaResponse
            switch c {
            case .join(_, let r):
                response = joinGroupResponse(r, version: p.version)
                if !r.memberId.isEmpty { groupFaults.memberConnections[r.memberId] = p.connection }
            case .sync(_, let r): response = syncGroupResponse(r)
            }
            recordParked(p, response)
            fill(slot, p.connection, encode(response, p))
        }
    }

    mutating func recordParked(_ p: Parked, _ r: any KafkaResponse) {
        guard config.recordEvents else { return }
        events.append(FakeEvent(connection: p.connection, broker: p.broker, apiKey: p.apiKey, version: p.version,
                                correlationId: p.correlationId, message: .response(r)))
    }

    /// Settles a waiting slot of the connection's queue.
    mutating func fill(_ slot: UInt64, _ id: FakeConnectionID, _ state: Connection.SlotState) {
        guard let i = connections[id]?.queue.firstIndex(where: { $0.slot == slot }) else { return }
        connections[id]!.queue[i].state = state
    }

    /// Sends the ready responses at the head of the connection's queue.
    mutating func flush(_ id: FakeConnectionID, into out: inout [FakeOutput]) {
        // In place by position: a copy of the connection taken out and put back retains
        // everything in it, and its queue is copied again at the first removal.
        guard let i = connections.index(forKey: id) else { return }
        while let head = connections.values[i].queue.first {
            switch head.state {
            case .waiting: return
            case .nothing: connections.values[i].queue.removeFirst()
            case .ready(let bytes): connections.values[i].queue.removeFirst(); out.append(.send(id, bytes))
            case .close(let reason):
                // Nothing after a close is sent; emptying the queue first also keeps
                // close (which flushes) from meeting this slot again.
                connections.values[i].queue.removeAll()
                close(id, reason, into: &out)
                return
            }
        }
    }

    func encode(_ response: any KafkaResponse, _ p: Parked) -> Connection.SlotState {
        encodeFrame(response, version: p.version, correlationId: p.correlationId)
    }

    /// The response frame, or — when a handler built a response its version cannot carry,
    /// a bug in the fake — a close of the connection saying so, rather than bad bytes.
    func encodeFrame(_ response: some KafkaResponse, version: Int16, correlationId: Int32) -> Connection.SlotState {
        do {
            return .ready(try encodeResponseFrame(response, version: version, correlationId: correlationId))
        } catch {
            return .close("internal error: cannot encode \(type(of: response)) v\(version): \(error)")
        }
    }
}
