import Testing
@testable import FakeCluster

/// Seeded random runs of a KIP-848 group: members join, leave (-1), leave for a while
/// (-2) and come back under a new member id, heartbeat with honest, missing or made-up
/// owned lists, and go quiet long enough to be fenced; the coordinator moves now and then. After every step no partition is
/// held (assigned or revoking) by two members; once everyone heartbeats honestly the
/// group is Stable with every subscribed partition owned exactly once.
@Suite("KIP-848 consumer group properties")
struct ConsumerGroupPropertyTests {
    struct Client {
        var memberId: String
        var instanceId: String?
        var topics: [String]
        var epoch: Int32 = 0
        var owned: [TopicIdPartition] = []
        var joined = false
        /// A static member that left with -2 and has not come back yet.
        var away = false
    }

    @Test(arguments: Array(1 ... 16) as [UInt64])
    func noPartitionHasTwoOwnersAndTheGroupConverges(seed: UInt64) {
        _ = Self.run(seed: seed)
    }

    /// One seed twice: the same answers in the same order and the same coordinator state
    /// (the dictionaries are separate instances, so an order leak has a chance to show).
    @Test func aSeedReplaysExactly() {
        let a = Self.run(seed: 11), b = Self.run(seed: 11)
        #expect(a.transcript.count > 1_000)
        #expect(a.transcript == b.transcript)
        #expect(a.coordinator == b.coordinator)
    }

    static func run(seed: UInt64) -> (transcript: [String], coordinator: GroupCoordinator) {
        var transcript: [String] = []
        var h = ConsumerHarness([("t1", 6), ("t2", 4), ("t3", 3)])
        var rng = SeededGenerator(seed: seed)
        var clients: [Client] = []
        var nextId = 0
        var sawRevocation = false, sawFence = false
        var now: UInt64 = 0
        let everything = h.image.names.flatMap { n in (0 ..< h.image.byName[n]!.partitions).map { h.tp(n, $0) } }
        let subscriptions = [["t1"], ["t1", "t2"], ["t2", "t3"], ["t1", "t2", "t3"]]

        func newId() -> String {
            nextId += 1
            return "m\(nextId)"
        }

        /// One heartbeat of client i; `owned` nil sends nothing (unchanged).
        func beat(_ i: Int, owned: [TopicIdPartition]?) {
            var c = clients[i]
            let r: GroupCoordinator.ConsumerHeartbeatResponse
            if !c.joined {
                r = h.heartbeat(c.memberId, epoch: 0, topics: c.topics, owned: [], instance: c.instanceId, rebalance: 20_000,
                                at: .milliseconds(now))
            } else {
                r = h.heartbeat(c.memberId, epoch: c.epoch, owned: owned, instance: c.instanceId, at: .milliseconds(now))
            }
            transcript.append("\(now) \(c.memberId) \(r)")
            switch r.error {
            case .noError:
                c.joined = true
                c.epoch = r.memberEpoch
                if let a = r.assignment { c.owned = a }
            case .unreleasedInstanceId:
                break // the old process still holds the instance: try again later
            default:
                sawFence = true
                c.joined = false // fenced or unknown: let go of everything and rejoin
                c.epoch = 0
                c.owned = []
            }
            clients[i] = c
        }

        for _ in 0 ..< 1_500 {
            now += rng.next() % 2_500
            let roll = rng.next() % 100
            let active = clients.indices.filter { !clients[$0].away }
            if roll < 8 || active.isEmpty {
                guard clients.count < 9 else { continue }
                let isStatic = rng.next() % 3 == 0
                clients.append(Client(memberId: newId(), instanceId: isStatic ? "inst-\(nextId)" : nil,
                                      topics: subscriptions[Int(rng.next() % UInt64(subscriptions.count))]))
                beat(clients.count - 1, owned: [])
            } else if roll < 12 {
                let i = active[Int(rng.next() % UInt64(active.count))]
                // A leaving client says so even when its last heartbeat failed (the
                // coordinator may still hold it, e.g. after FENCED_MEMBER_EPOCH).
                h.heartbeat(clients[i].memberId, epoch: -1, instance: clients[i].instanceId, at: .milliseconds(now))
                clients.remove(at: i)
            } else if roll < 15 {
                let i = active[Int(rng.next() % UInt64(active.count))]
                guard clients[i].instanceId != nil, clients[i].joined else { continue }
                h.heartbeat(clients[i].memberId, epoch: -2, instance: clients[i].instanceId, at: .milliseconds(now))
                clients[i].away = true
            } else if roll < 19, rng.next() % 4 == 0 {
                // The coordinator moves: state kept, sessions and revocation timers restart.
                h.c.moveGroup("g", now: .milliseconds(now))
                transcript.append("\(now) moved")
            } else if roll < 18 {
                // A static member that left restarts: a new process, a new member id.
                guard let i = clients.indices.first(where: { clients[$0].away }) else { continue }
                clients[i] = Client(memberId: newId(), instanceId: clients[i].instanceId, topics: clients[i].topics)
                beat(i, owned: [])
            } else {
                let i = active[Int(rng.next() % UInt64(active.count))]
                let kind = rng.next() % 20
                let owned: [TopicIdPartition]?
                if kind < 11 {
                    owned = clients[i].owned
                } else if kind < 15 {
                    owned = nil
                } else {
                    owned = everything.filter { _ in rng.next() % 4 == 0 }
                }
                beat(i, owned: owned)
            }
            h.tick(.milliseconds(now))
            if h.c.consumerGroups["g"]?.orderedMembers.contains(where: { !$0.pendingRevocation.isEmpty }) == true { sawRevocation = true }
            #expect(h.exclusive(), "seed \(seed): a partition has two owners at \(now) ms")
            if !h.exclusive() { return (transcript, h.c) }
        }

        // Liveness: everyone comes back and heartbeats honestly, often.
        for i in clients.indices where clients[i].away {
            clients[i] = Client(memberId: newId(), instanceId: clients[i].instanceId, topics: clients[i].topics)
        }
        for _ in 0 ..< 30 {
            now += 100
            for i in clients.indices { beat(i, owned: clients[i].owned) }
            h.tick(.milliseconds(now))
            #expect(h.exclusive())
        }
        guard !clients.isEmpty, let g = h.c.consumerGroups["g"] else { return (transcript, h.c) }
        let dump = g.orderedMembers.map {
            "\($0.memberId) epoch \($0.memberEpoch) assigned \(h.names($0.assigned)) revoking \(h.names($0.pendingRevocation)) target \(h.names(g.targetAssignment[$0.memberId] ?? []))"
        }.joined(separator: "; ")
        #expect(g.state == .stable, "seed \(seed): \(g.state): \(dump)")
        #expect(sawRevocation && sawFence, "seed \(seed): the run asked no revocation or fenced nobody")
        let subscribed = Set(clients.flatMap(\.topics))
        let expected = everything.filter { subscribed.contains(h.image.topic(id: $0.topicId)!.name) }
        let held = g.orderedMembers.flatMap { $0.assigned.sorted() }
        #expect(held.sorted() == expected.sorted(), "seed \(seed)")
        #expect(Set(held).count == held.count)
        // The clients' own view agrees with the coordinator's.
        for c in clients {
            #expect(Set(c.owned) == g.member(c.memberId)?.assigned, "seed \(seed): \(c.memberId)")
        }
        return (transcript, h.c)
    }
}
