/// The topics the fetcher consumes beyond explicit partitions: named topics, and regular
/// expressions matched against every topic the cluster reports (with exclusions), so a new
/// matching topic is picked up at the next metadata refresh.
public struct TopicSubscription: Sendable, Equatable {
    public var topics: [String] = []
    /// Whole-name regular expressions (Swift Regex syntax).
    public var patterns: [String] = []
    /// Whole-name regular expressions of topics never consumed, even when matched.
    public var exclusions: [String] = []
    /// Where partitions found through this subscription start.
    public var start: StartOffset = .start

    public init(topics: [String] = [], patterns: [String] = [], exclusions: [String] = [], start: StartOffset = .start) {
        self.topics = topics
        self.patterns = patterns
        self.exclusions = exclusions
        self.start = start
    }

    public var isEmpty: Bool { topics.isEmpty && patterns.isEmpty }
    var needsAllTopics: Bool { !patterns.isEmpty }

    /// The first pattern that does not compile, with the reason.
    public static func invalidPattern(in patterns: [String]) -> (pattern: String, reason: String)? {
        for p in patterns {
            do { _ = try Regex(p) } catch { return (p, "\(error)") }
        }
        return nil
    }

    /// The subscribed topics among `known` (sorted), internal topics matched by patterns
    /// excluded unless named.
    func matching(_ known: [String]) -> [String] {
        let include = patterns.compactMap { try? Regex($0) }
        let exclude = exclusions.compactMap { try? Regex($0) }
        var out: [String] = []
        for t in known {
            let named = topics.contains(t)
            let matched = !t.hasPrefix("__") && include.contains { t.wholeMatch(of: $0) != nil }
            guard named || matched else { continue }
            if exclude.contains(where: { t.wholeMatch(of: $0) != nil }) { continue }
            out.append(t)
        }
        return out
    }
}
