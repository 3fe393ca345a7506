import KafkaStateMachines

/// Every action the engine emitted, with the virtual instant it was emitted at: two runs of
/// one seed must give the same value, or something depended on hash order, a clock or
/// system randomness.
package struct ActionHash: Sendable, Equatable {
    private var digest = ActionDigest()

    package init() {}

    package var value: UInt64 { digest.value }
    package var actions: Int { Int(digest.actions) }

    package mutating func record(_ action: Action, at now: UInt64) {
        digest.mix(now)
        digest.record(action)
    }

    package var hex: String { digest.hex }
}
