extension ProducerTopic {
    /// The partition for a record without one (the topic's partitions are known). Works on
    /// the topic in place (the producer passes it `inout`): nothing is copied per record.
    mutating func choosePartition(_ r: ProducerRecord, charge: Int, partitioner: PartitionerKind,
                                  rng: inout SeededGenerator) -> Int32 {
        let count = partitions.count
        switch partitioner {
        case .manual:
            return 0  // refused earlier: manual records carry a partition
        case .sticky:
            if let key = r.key { return Murmur2.partition(forKey: key, partitions: count) }
            if sticky < 0 || Int(sticky) >= count {
                sticky = Self.pickOther(than: stickyBefore, in: availablePartitions, rng: &rng)
            }
            return sticky
        case .uniformBytes(let bytes, let adaptive):
            if let key = r.key { return Murmur2.partition(forKey: key, partitions: count) }
            if sticky < 0 || Int(sticky) >= count || stickyBytes >= bytes {
                sticky = adaptive ? pickByQueue(availablePartitions, avoiding: sticky, rng: &rng)
                                  : Self.pickOther(than: sticky, in: availablePartitions, rng: &rng)
                stickyBytes = 0
            }
            stickyBytes += charge
            return sticky
        case .roundRobin:
            let candidates = availablePartitions
            let i = roundRobin
            roundRobin = i &+ 1
            return candidates[i % candidates.count]
        case .leastBackup:
            let candidates = availablePartitions
            var best = candidates[0]
            for p in candidates where partitions[Int(p)].bufferedRecords < partitions[Int(best)].bufferedRecords {
                best = p
            }
            return best
        }
    }

    /// The partitions with a leader, or all of them while none has one.
    var availablePartitions: [Int32] {
        available.isEmpty ? Array(0 ..< Int32(partitions.count)) : available
    }

    /// A random partition of `candidates`, other than `previous` when there is a choice.
    static func pickOther(than previous: Int32, in candidates: [Int32], rng: inout SeededGenerator) -> Int32 {
        if candidates.count == 1 { return candidates[0] }
        let others = candidates.filter { $0 != previous }
        return others[Int(rng.next() % UInt64(others.count))]
    }

    /// KIP-794's adaptive choice: partition weights fall with queue length (weight
    /// max + 1 - length, lengths in buffered records), so a slow broker's partitions get less.
    func pickByQueue(_ candidates: [Int32], avoiding previous: Int32, rng: inout SeededGenerator) -> Int32 {
        let lengths = candidates.map { partitions[Int($0)].bufferedRecords }
        let longest = lengths.max() ?? 0
        if longest == (lengths.min() ?? 0) { return Self.pickOther(than: previous, in: candidates, rng: &rng) }
        let weights = lengths.map { UInt64(longest + 1 - $0) }
        let total = weights.reduce(0, +)
        var draw = rng.next() % total
        for (i, w) in weights.enumerated() {
            if draw < w { return candidates[i] }
            draw -= w
        }
        return candidates[candidates.count - 1]
    }
}
