import KafkaProtocol
import OrderedCollections

/// Every connection the engine holds, one per (broker, purpose), and what outlives a
/// connection: the versions each broker reported, the brokers that refused ApiVersions,
/// KIP-219 throttles (a broker's quota, carried to connections opened during it) and the
/// SCRAM salted passwords (so a new connection skips PBKDF2). Connection ids only grow, so
/// the pool's insertion order is id order: walks need no sorting.
struct ConnectionPool {
    private struct Key: Hashable {
        var broker: BrokerID
        var purpose: ConnectionPurpose
    }
    private(set) var connections: OrderedDictionary<ConnectionID, ConnectionStateMachine> = [:]
    /// What `nextDeadline` and `idle` need of each connection, by position in `connections`,
    /// taken again after every input the pool gives it (the only way a connection changes).
    /// They run at every engine step: reading a connection kept in a collection outside a
    /// mutation copies the whole state machine (retaining and releasing all it holds).
    private var timers: [Timers] = []
    private struct Timers {
        /// The connection's `nextDeadline()`.
        var deadline: Instant?
        /// Its last activity while it is idle (may be reaped), else nil.
        var idleSince: Instant?

        /// Read through `inout`, in place: no copy of the connection.
        init(of c: inout ConnectionStateMachine) {
            deadline = c.nextDeadline()
            idleSince = c.isIdle ? c.lastActivity : nil
        }
    }
    private var byKey: [Key: ConnectionID] = [:]
    private var nextId: UInt64 = 1
    /// Brokers that closed the connection on ApiVersions; they get the fallback release.
    private var brokersWithoutApiVersions: Set<BrokerID> = []
    /// KIP-219: until when each broker asked us to hold back.
    private var throttledUntil: [BrokerID: Instant] = [:]
    /// SCRAM salted passwords derived so far, handed to each new connection.
    private(set) var saltedPasswords = ScramSaltedPasswords()
    /// A test seam: called each time a connection had to run SCRAM's key derivation (what
    /// the cache saves); nil in production.
    var onSaltedPasswordDerived: (() -> Void)?
    /// Versions each broker reported, kept past its connections' lifetimes.
    private(set) var brokerVersions: [BrokerID: BrokerVersions] = [:]

    subscript(id: ConnectionID) -> ConnectionStateMachine? { connections[id] }

    /// Ids of open connections, in the order they were opened.
    var ids: [ConnectionID] { Array(connections.keys) }

    func isConnected(_ broker: BrokerID, purpose: ConnectionPurpose) -> Bool {
        byKey[Key(broker: broker, purpose: purpose)] != nil
    }

    /// The connection to `broker` for `purpose`; `opened` when it had to be created (the
    /// driver must dial it).
    mutating func connection(to broker: BrokerID, purpose: ConnectionPurpose, config: EngineConfig, rng: inout SeededGenerator,
                             now: Instant) -> (id: ConnectionID, opened: Bool) {
        let key = Key(broker: broker, purpose: purpose)
        if let existing = byKey[key] { return (existing, false) }
        let id = ConnectionID(nextId)
        nextId += 1
        let assumed = brokersWithoutApiVersions.contains(broker) ? config.apiVersionsFallbackRelease : nil
        var c = ConnectionStateMachine(id: id, broker: broker, purpose: purpose, config: config, rng: rng.fork(), now: now,
                                       assumedRelease: assumed, saltedPasswords: saltedPasswords)
        if let until = throttledUntil[broker] {
            if until > now { c.throttle(until: until) } else { throttledUntil[broker] = nil }
        }
        connections[id] = c
        // Ids only grow: the new connection is the last one.
        timers.append(Timers(of: &c))
        byKey[key] = id
        return (id, true)
    }

    /// Gives one input to connection `id`; nil when the pool no longer has it.
    mutating func update(_ id: ConnectionID, _ body: (inout ConnectionStateMachine) -> [ConnectionEvent]) -> [ConnectionEvent]? {
        // In place by position: the keyed subscript's modify moves the value out and back.
        guard let i = connections.index(forKey: id) else { return nil }
        let events = body(&connections.values[i])
        timers[i] = Timers(of: &connections.values[i])
        return events
    }

    /// Forgets a connection that failed or was closed.
    mutating func remove(_ id: ConnectionID) -> ConnectionStateMachine? {
        guard let i = connections.index(forKey: id) else { return nil }
        let c = connections.remove(at: i).value
        timers.remove(at: i)
        let key = Key(broker: c.broker, purpose: c.purpose)
        if byKey[key] == id { byKey[key] = nil }
        return c
    }

    /// Takes in what a connection learned about its broker. Returns false for events that
    /// are not the pool's (writes, answers, failures: the engine's).
    mutating func absorb(_ event: ConnectionEvent, from id: ConnectionID) -> Bool {
        switch event {
        case .apiVersionsRefused:
            if let c = connections[id] { brokersWithoutApiVersions.insert(c.broker) }
        case .ready(let versions):
            if let c = connections[id] { brokerVersions[c.broker] = versions }
        case .saltedPasswordDerived(let entry):
            onSaltedPasswordDerived?()
            saltedPasswords.remember(entry)
        case .throttled(let until):
            guard let broker = connections[id]?.broker else { return true }
            throttledUntil[broker] = max(throttledUntil[broker] ?? until, until)
            for i in connections.values.indices where connections.keys[i] != id && connections.values[i].broker == broker {
                connections.values[i].throttle(until: until)
                timers[i] = Timers(of: &connections.values[i])
            }
        case .write, .response, .failed, .observed, .needsOAuthToken:
            return false
        }
        return true
    }

    /// The earliest deadline of any connection, or an idle one's reaping.
    func nextDeadline(idleTimeout: Interval) -> Instant? {
        var d: Instant?
        func consider(_ t: Instant?) { if let t { d = d.map { min($0, t) } ?? t } }
        for t in timers {
            consider(t.deadline)
            if let since = t.idleSince { consider(since + idleTimeout) }
        }
        return d
    }

    /// Connections idle for `idleTimeout` by `now`, in id order.
    func idle(at now: Instant, idleTimeout: Interval) -> [ConnectionID] {
        timers.indices.compactMap { i in timers[i].idleSince.map { now >= $0 + idleTimeout } == true ? connections.keys[i] : nil }
    }
}
