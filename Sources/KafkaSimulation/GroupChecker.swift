import KafkaStateMachines

/// The group simulation's invariants, fed the history as it happens. It knows nothing of
/// engines or the cluster: the simulation hands it facts (who was assigned what in which
/// generation, who was given which records, what the coordinator has committed), so the
/// checks can be fed bad histories in tests (GroupCheckerTests). Each violation starts with
/// the invariant's name, as the shrinker expects.
///
/// - `exclusive-owner`: under a cooperative protocol a partition is never assigned to a
///   member while another member the coordinator still counts in the group owns it; under
///   an eager one, never while another member of the same generation owns it.
/// - `generation-fetch`: a member is given records only of partitions it owns, and no two
///   members are given records of one partition in one generation.
/// - `commits-forward`: a committed offset never goes backwards (as members report their
///   commits, and as read from the coordinator).
/// - `settled-owners`: after settling, every partition is owned by exactly one live member,
///   and that member's fetcher fetches it.
/// - `delivered`: every record was delivered at least once.
/// - `exactly-once`: with commit on revoke and nothing lost (no crash, no lost partition,
///   no failed commit), no record was delivered twice.
/// - `member-failed`: no member's membership ended with an error.
/// - `coordinator-owned`: a consumer-protocol (KIP-848) member the coordinator counts in
///   the group is given records only of partitions the coordinator assigns it or is still
///   revoking from it, and after settling it owns exactly its assignment, nothing pending.
package struct GroupChecker: Sendable {
    /// Another member's state when a partition is assigned.
    package struct Other: Sendable {
        package var member: Int
        package var owned: Set<TopicPartition>
        package var generation: Int32
        /// Still a member of the group at the coordinator (not a zombie).
        package var inGroup: Bool

        package init(member: Int, owned: Set<TopicPartition>, generation: Int32, inGroup: Bool) {
            self.member = member
            self.owned = owned
            self.generation = generation
            self.inGroup = inGroup
        }
    }

    /// A live member's state after settling.
    package struct Live: Sendable {
        package var member: Int
        package var owned: Set<TopicPartition>
        package var fetching: Set<TopicPartition>

        package init(member: Int, owned: Set<TopicPartition>, fetching: Set<TopicPartition>) {
            self.member = member
            self.owned = owned
            self.fetching = fetching
        }
    }

    package var violations: [String] = []
    /// Every (partition, offset) delivered, with how many times.
    package private(set) var deliveries: [TopicPartition: [Int64: Int]] = [:]
    /// The highest committed offset seen per partition.
    package private(set) var committed: [TopicPartition: Int64] = [:]
    /// Which member was given records of a partition in a generation (of an era: generation
    /// numbers start again when a protocol switch makes the group anew).
    var fetchers: [TopicPartition: [Int: [Int32: Int]]] = [:]
    /// Copy mode: transaction attempts that were aborted.
    package private(set) var abortedKeys: [String] = []

    package init() {}

    package mutating func assigned(member i: Int, _ parts: [TopicPartition], generation: Int32, cooperative: Bool,
                                   others: [Other], atMs: UInt64) {
        for tp in parts {
            for o in others where o.member != i && o.owned.contains(tp) {
                if cooperative ? o.inGroup : o.generation == generation {
                    violations.append("exclusive-owner: \(tp.topic)/\(tp.partition) assigned to member \(i) (generation \(generation)) while member \(o.member) (generation \(o.generation)\(o.inGroup ? ", in the group" : "")) owns it, at \(atMs) ms")
                }
            }
        }
    }

    package mutating func fetched(member i: Int, generation: Int32, era: Int = 0, _ tp: TopicPartition, owns: Bool,
                                  offsets: [Int64], atMs: UInt64) {
        if !owns {
            violations.append("generation-fetch: member \(i) was given records of \(tp.topic)/\(tp.partition), which it does not own, at \(atMs) ms")
        }
        if generation >= 0 {
            if let other = fetchers[tp]?[era]?[generation], other != i {
                violations.append("generation-fetch: \(tp.topic)/\(tp.partition) fetched by members \(other) and \(i) in generation \(generation), at \(atMs) ms")
            } else {
                fetchers[tp, default: [:]][era, default: [:]][generation] = i
            }
        }
        for o in offsets { deliveries[tp, default: [:]][o, default: 0] += 1 }
    }

    /// A commit a member reported as done, or the coordinator's committed offsets read at
    /// some instant: either way they must only move forward.
    package mutating func committed(_ offsets: [TopicPartition: Int64], by who: String, atMs: UInt64) {
        for (tp, o) in offsets.sorted(by: { $0.key < $1.key }) {
            if let last = committed[tp], o < last {
                violations.append("commits-forward: committed offset of \(tp.topic)/\(tp.partition) went back from \(last) to \(o) (\(who)), at \(atMs) ms")
            }
            committed[tp] = max(committed[tp] ?? o, o)
        }
    }

    package mutating func settled(partitions: [TopicPartition], live: [Live]) {
        guard !live.isEmpty else { return }
        for tp in partitions {
            let owners = live.filter { $0.owned.contains(tp) }.map(\.member)
            if owners.count != 1 {
                violations.append("settled-owners: after settling, \(tp.topic)/\(tp.partition) is owned by \(owners.count) live members \(owners)")
            } else if let l = live.first(where: { $0.member == owners[0] }), !l.fetching.contains(tp) {
                violations.append("settled-owners: after settling, member \(owners[0]) owns \(tp.topic)/\(tp.partition) but does not fetch it")
            }
        }
    }

    /// `records`: how many records each partition holds (offsets 0 ..< n).
    package mutating func delivered(records: [(TopicPartition, Int64)]) {
        for (tp, n) in records {
            let got = deliveries[tp] ?? [:]
            let missing = (0 ..< n).filter { got[$0] == nil }
            if let first = missing.first {
                violations.append("delivered: \(tp.topic)/\(tp.partition): \(missing.count) records never delivered (first \(first))")
            }
        }
    }

    package var duplicates: Int {
        var dup = 0
        for (_, offs) in deliveries { for (_, n) in offs { dup += n - 1 } }
        return dup
    }

    package var deliveredCount: Int { deliveries.values.reduce(0) { $0 + $1.count } }

    /// `applies`: commit on revoke, and nothing crashed, was lost or failed to commit.
    package mutating func exactlyOnce(applies: Bool) {
        let dup = duplicates
        if applies && dup > 0 {
            violations.append("exactly-once: \(dup) records delivered twice without a crash, a lost partition or a failed commit (commit on revoke should prevent it)")
        }
    }

    /// A consumer-protocol member was given records of `tp`; `coordinatorGives`: what the
    /// coordinator assigns it or is revoking from it now, nil when it does not count the
    /// member (a fenced member may fetch until it learns; fencing guards its commits).
    package mutating func consumerFetched(member i: Int, _ tp: TopicPartition, coordinatorGives: Set<TopicPartition>?, atMs: UInt64) {
        guard let gives = coordinatorGives, !gives.contains(tp) else { return }
        violations.append("coordinator-owned: member \(i) was given records of \(tp.topic)/\(tp.partition), which the coordinator neither assigns it nor is revoking (it gives \(gives.sorted().map { "\($0.topic)/\($0.partition)" })), at \(atMs) ms")
    }

    /// After settling, a live consumer-protocol member owns exactly what the coordinator
    /// assigns it, with nothing left to revoke; `coordinator` nil: not a member there.
    package mutating func consumerSettled(member i: Int, owned: Set<TopicPartition>,
                                          coordinator c: (assigned: [TopicPartition], pendingRevocation: [TopicPartition])?) {
        func names(_ s: [TopicPartition]) -> String { "\(s.sorted().map { "\($0.topic)/\($0.partition)" })" }
        guard let c else {
            violations.append("coordinator-owned: after settling, live member \(i) is not a member of the coordinator's consumer group")
            return
        }
        if Set(c.assigned) != owned || !c.pendingRevocation.isEmpty {
            violations.append("coordinator-owned: after settling, member \(i) owns \(names(Array(owned))) but the coordinator assigns it \(names(c.assigned)) and revokes \(names(c.pendingRevocation))")
        }
    }

    package mutating func memberFailed(_ i: Int, _ error: String, atMs: UInt64) {
        violations.append("member-failed: member \(i) failed: \(error), at \(atMs) ms")
    }
}

// MARK: copy mode (exactly-once consume-transform-produce)

extension GroupChecker {
    /// A transaction attempt (its output key) that ended in an abort, by the member or by
    /// the coordinator after the member's engine went away.
    package mutating func abortedTransaction(_ key: String) {
        abortedKeys.append(key)
    }

    /// Checks the copy at the end, from OUT's logs read straight from the cluster:
    /// - `copied-once`: the committed view of OUT holds every input record exactly once,
    ///   in input offset order per input partition;
    /// - `aborted-invisible`: no visible record belongs to an aborted transaction attempt;
    /// - `copy-offsets`: the group's committed offset of each input partition equals its
    ///   end offset and the number of its records visible in OUT;
    /// - `txn-closed`: no transaction is still open in OUT's logs.
    package mutating func copied(input: [(TopicPartition, Int64)], output: [Int32: CopyLogRead], committed: [TopicPartition: Int64]) {
        let aborted = Set(abortedKeys)
        var seen: [Int32: [Int64]] = [:]
        for p in output.keys.sorted() {
            let read = output[p]!
            for r in read.visible {
                if aborted.contains(r.key) {
                    violations.append("aborted-invisible: output partition \(p) shows \(r.value) of aborted transaction \(r.key)")
                }
                guard let (ip, io) = Self.parseCopied(r.value) else {
                    violations.append("copied-once: output partition \(p) holds \"\(r.value)\", not a copied record")
                    continue
                }
                seen[ip, default: []].append(io)
            }
            if !read.open.isEmpty {
                violations.append("txn-closed: output partition \(p) has \(read.open.count) records of transactions still open at the end (first \(read.open[0].key): \(read.open[0].value))")
            }
        }
        let inputs = Dictionary(input.map { ($0.0.partition, $0) }, uniquingKeysWith: { a, _ in a })
        for ip in seen.keys.sorted() where inputs[ip] == nil {
            violations.append("copied-once: output holds records of input partition \(ip), which was never written")
        }
        for (tp, end) in input {
            let got = seen[tp.partition] ?? []
            if got != Array(0 ..< end) {
                let firstBad = zip(got, 0 ..< end).first { $0 != $1 }
                var what = "\(got.count) of \(end) copied"
                if let (g, want) = firstBad { what += "; at position \(want) offset \(g)" }
                let dups = got.count - Set(got).count
                if dups > 0 { what += "; \(dups) duplicates" }
                violations.append("copied-once: input \(tp.topic)/\(tp.partition): \(what)")
            }
            let c = committed[tp]
            if (c ?? 0) != end || (c ?? 0) != Int64(got.count) {
                violations.append("copy-offsets: input \(tp.topic)/\(tp.partition): committed \(c.map { "\($0)" } ?? "nothing"), end \(end), \(got.count) visible in the output")
            }
        }
    }

    /// "pP-oO" → (P, O).
    static func parseCopied(_ v: String) -> (Int32, Int64)? {
        let parts = v.split(separator: "-")
        guard parts.count == 2, parts[0].first == "p", parts[1].first == "o",
              let p = Int32(parts[0].dropFirst()), let o = Int64(parts[1].dropFirst()) else { return nil }
        return (p, o)
    }
}
