/// Leader elections (ElectLeaders) and partition reassignments (AlterPartitionReassignments,
/// ListPartitionReassignments). A reassignment adds its new replicas at once (the fake's
/// followers catch up within the append), keeps the old and new sets together for
/// `reassignmentMs` of virtual time, then leaves the new set alone; a leader outside it
/// hands over to the new set's first live in-sync replica.
extension ClusterState {
    struct Reassignment: Sendable, Equatable {
        var original: [Int32]
        var target: [Int32]
        var due: Instant
    }

    /// ElectLeaders for one partition: NONE when elected, ELECTION_NOT_NEEDED when the
    /// partition already has the leader the election would pick.
    mutating func electLeader(_ tp: TopicPartition, unclean: Bool) -> (KafkaErrorCode, String?) {
        guard let p = metadata.partition(tp) else { return (.unknownTopicOrPartition, nil) }
        if unclean {
            if p.leader >= 0, metadata.isUp(p.leader) { return (.electionNotNeeded, nil) }
            // Any live replica, in sync or not: what it lacks is lost.
            guard let r = p.replicas.first(where: { metadata.isUp($0) }) else {
                return (.eligibleLeadersNotAvailable, "no replica of \(tp.topic)-\(tp.partition) is live")
            }
            return (setReplicas(tp, replicas: p.replicas, isr: [r]), nil)
        }
        let preferred = p.replicas[0]
        if p.leader == preferred { return (.electionNotNeeded, nil) }
        guard metadata.isUp(preferred), p.isr.contains(preferred) else {
            return (.preferredLeaderNotAvailable, "the preferred replica \(preferred) is not live and in sync")
        }
        switch moveLeader(tp, to: preferred) {
        case .success: return (.noError, nil)
        case .failure(let e): return (e, nil)
        }
    }

    /// Starts (or, with nil, cancels) a reassignment of `tp` to `target`.
    mutating func reassign(_ tp: TopicPartition, to target: [Int32]?, now: Instant) -> (KafkaErrorCode, String?) {
        guard let p = metadata.partition(tp) else { return (.unknownTopicOrPartition, nil) }
        guard let target else {
            guard let r = reassignments.removeValue(forKey: tp) else { return (.noReassignmentInProgress, nil) }
            return (settleReplicas(tp, r.original), nil)
        }
        if target.isEmpty { return (.invalidReplicaAssignment, "the replica set is empty") }
        if Set(target).count != target.count { return (.invalidReplicaAssignment, "a broker is named twice in \(target)") }
        if let unknown = target.first(where: { metadata.brokers[$0] == nil }) {
            return (.invalidReplicaAssignment, "broker \(unknown) is not in the cluster")
        }
        if !target.contains(where: { metadata.isUp($0) }) { return (.invalidReplicaAssignment, "no broker of \(target) is live") }
        let original = reassignments[tp]?.original ?? p.replicas
        guard config.reassignmentMs > 0 else {
            reassignments[tp] = nil
            return (settleReplicas(tp, target), nil)
        }
        let together = original + target.filter { !original.contains($0) }
        let e = setReplicas(tp, replicas: together, isr: p.isr.filter { together.contains($0) })
        if e == .noError { reassignments[tp] = Reassignment(original: original, target: target, due: now.adding(milliseconds: config.reassignmentMs)) }
        return (e, nil)
    }

    /// `replicas` alone, keeping the in-sync ones (new live ones catch up at once).
    private mutating func settleReplicas(_ tp: TopicPartition, _ replicas: [Int32]) -> KafkaErrorCode {
        guard let p = metadata.partition(tp) else { return .unknownTopicOrPartition }
        var isr = replicas.filter { p.isr.contains($0) && metadata.isUp($0) }
        if isr.isEmpty { isr = replicas.filter { metadata.isUp($0) } }
        if isr.isEmpty { isr = [replicas[0]] }
        return setReplicas(tp, replicas: replicas, isr: isr)
    }

    mutating func completeDueReassignments(now: Instant) {
        for tp in reassignments.keys.sorted() where reassignments[tp]!.due <= now {
            let r = reassignments.removeValue(forKey: tp)!
            _ = settleReplicas(tp, r.target)
        }
    }

    var nextReassignmentDeadline: Instant? { reassignments.values.map(\.due).min() }
}
