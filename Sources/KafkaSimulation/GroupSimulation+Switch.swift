import FakeCluster
import KafkaStateMachines

/// KIP-848 in the group simulation: the coordinator's view of a consumer-protocol member
/// (for `coordinator-owned`), and whole-group protocol switches.
///
/// A switch stops every running member (each leaves or crashes, drawn from the seed),
/// waits until the coordinator holds the group with no member (sessions of crashed members
/// and of static members that left have ended), then starts the same member slots again
/// speaking the other protocol. FakeCluster converts a group between classic and consumer
/// only when it is empty (a classic JoinGroup into a consumer group with members is
/// refused, and the other way round), so this is the one switch the simulation can make
/// legal; members switching one at a time in a live group wait for online conversion.
extension GroupSimulation {
    /// The member as the coordinator's consumer group holds it now; nil when the member
    /// has no id yet, the group is not a consumer group, or the coordinator does not count
    /// it (a fenced member that does not know it yet).
    func coordinatorMember(_ i: Int) -> FakeConsumerGroupSnapshot.Member? {
        let id = members[i].memberId
        guard !id.isEmpty else { return nil }
        return cluster.describeConsumerGroup(plan.group)?.members.first { $0.memberId == id }
    }

    /// What the coordinator lets member i consume now: its assignment and what it is still
    /// revoking; nil when the coordinator does not count the member (nothing to check).
    func coordinatorGives(_ i: Int) -> Set<TopicPartition>? {
        guard let m = coordinatorMember(i) else { return nil }
        return Set(m.assigned).union(m.pendingRevocation)
    }

    /// Starts the member unless it runs or a switch will start it; a consumer-protocol
    /// static member waits while the coordinator holds its instance id for a member that
    /// did not leave (a crashed one, until its session ends): a join then is refused with
    /// UNRELEASED_INSTANCE_ID, fatal as in Kafka's clients.
    mutating func startWhenReleased(_ i: Int) {
        guard members[i].engine == nil, switching == nil else { return }
        if groupProtocol == .consumer, plan.isStatic(i),
           let held = cluster.describeConsumerGroup(plan.group)?.members.first(where: { $0.instanceId == "member-\(i)" }),
           held.memberEpoch != -2 {
            queue.push(at: now + 200 * Self.ms, .startWhenReleased(member: i))
            return
        }
        start(i)
    }

    /// The member leaves the group (LeaveGroup, or the consumer protocol's leave heartbeat).
    mutating func leave(_ i: Int) {
        guard members[i].engine != nil, !members[i].leaving else { return }
        members[i].leaving = true
        log.append("\(now / Self.ms) ms: member \(i) leaves")
        nextPromise += 1
        feed(i, .leaveGroup(PromiseID(nextPromise)))
    }

    mutating func beginSwitch(_ k: Int) {
        guard !quiet, switching == nil else { return }
        let running = members.indices.filter { members[$0].engine != nil }
        switching = (running, now / Self.ms)
        let next: GroupProtocol = groupProtocol == .consumer ? .classic : .consumer
        log.append("\(now / Self.ms) ms: protocol switch \(k): members \(running) stop; they come back speaking \(next.rawValue)")
        for i in running {
            if Bool.random(using: &rng) { crash(i) } else { leave(i) }
        }
        queue.push(at: now + 100 * Self.ms, .switchCheck)
    }

    /// Completes the switch once no member runs and the coordinator's group is empty.
    mutating func checkSwitch() {
        guard let s = switching else { return }
        let running = members.indices.filter { members[$0].engine != nil }
        // A leave that cannot finish (its coordinator unreachable for long): crash it.
        if !running.isEmpty && now / Self.ms - s.sinceMs >= 2 * plan.sessionTimeoutMs {
            for i in running { crash(i) }
        }
        guard members.allSatisfy({ $0.engine == nil }), coordinatorGroupEmpty() else {
            queue.push(at: now + 100 * Self.ms, .switchCheck)
            return
        }
        groupProtocol = groupProtocol == .consumer ? .classic : .consumer
        switching = nil
        switchesDone += 1
        log.append("\(now / Self.ms) ms: the group is empty: members start again speaking \(groupProtocol.rawValue)")
        for i in s.members.isEmpty ? [0] : s.members { start(i) }
    }

    /// The coordinator holds no member of the group (of either type), nor a classic
    /// member id handed out and unused, nor a classic rebalance in progress.
    func coordinatorGroupEmpty() -> Bool {
        if let cg = cluster.describeConsumerGroup(plan.group) { return cg.members.isEmpty }
        guard let g = cluster.describeGroup(plan.group) else { return true }
        return g.members.isEmpty && g.pendingMemberIds.isEmpty && (g.state == "Empty" || g.state == "Dead")
    }
}
