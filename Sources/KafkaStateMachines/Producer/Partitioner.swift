extension ProducerStateMachine {
    /// The partition for a record without one (the topic's partitions are known).
    mutating func choosePartition(_ r: ProducerRecord, in ti: TopicIndex, charge: Int) -> Int32 {
        let count = topics.values[ti].partitions.count
        switch config.partitioner {
        case .manual:
            return 0  // refused earlier: manual records carry a partition
        case .sticky:
            if let key = r.key { return Murmur2.partition(forKey: key, partitions: count) }
            var s = topics.values[ti].sticky
            if s < 0 || Int(s) >= count {
                s = pickOther(than: -1, in: available(ti))
                topics.values[ti].sticky = s
            }
            return s
        case .uniformBytes(let bytes, let adaptive):
            if let key = r.key { return Murmur2.partition(forKey: key, partitions: count) }
            var s = topics.values[ti].sticky
            if s < 0 || Int(s) >= count || topics.values[ti].stickyBytes >= bytes {
                s = adaptive ? pickByQueue(ti, in: available(ti), avoiding: s) : pickOther(than: s, in: available(ti))
                topics.values[ti].sticky = s
                topics.values[ti].stickyBytes = 0
            }
            topics.values[ti].stickyBytes += charge
            return s
        case .roundRobin:
            let available = available(ti)
            let i = topics.values[ti].roundRobin
            topics.values[ti].roundRobin = i &+ 1
            return available[i % available.count]
        case .leastBackup:
            let available = available(ti)
            var best = available[0]
            for p in available where topics.values[ti].partitions[Int(p)].bufferedRecords < topics.values[ti].partitions[Int(best)].bufferedRecords {
                best = p
            }
            return best
        }
    }

    /// The partitions with a leader, or all of them while none has one.
    func available(_ ti: TopicIndex) -> [Int32] {
        let t = topics.values[ti]
        return t.available.isEmpty ? Array(0 ..< Int32(t.partitions.count)) : t.available
    }

    /// A random partition of `available`, other than `previous` when there is a choice.
    mutating func pickOther(than previous: Int32, in available: [Int32]) -> Int32 {
        if available.count == 1 { return available[0] }
        let others = available.filter { $0 != previous }
        return others[Int(rng.next() % UInt64(others.count))]
    }

    /// KIP-794's adaptive choice: partition weights fall with queue length (weight
    /// max + 1 - length, lengths in buffered records), so a slow broker's partitions get less.
    mutating func pickByQueue(_ ti: TopicIndex, in available: [Int32], avoiding previous: Int32) -> Int32 {
        let lengths = available.map { topics.values[ti].partitions[Int($0)].bufferedRecords }
        let longest = lengths.max() ?? 0
        if longest == (lengths.min() ?? 0) { return pickOther(than: previous, in: available) }
        let weights = lengths.map { UInt64(longest + 1 - $0) }
        let total = weights.reduce(0, +)
        var draw = rng.next() % total
        for (i, w) in weights.enumerated() {
            if draw < w { return available[i] }
            draw -= w
        }
        return available[available.count - 1]
    }
}
