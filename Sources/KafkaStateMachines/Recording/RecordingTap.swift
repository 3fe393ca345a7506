/// The pure half of the flight recorder: a driver shows it every action it takes from the
/// engine and every input it gives the engine (before giving it), and gets back the bytes to
/// append to the recording. File handling (segments, size limits) is the driver's.
package struct RecordingTap: Sendable {
    public private(set) var digest = ActionDigest()

    public init() {}

    public mutating func observe(_ action: Action) { digest.record(action) }

    /// The entry for `payload` (an input, or a token provider's answer), checkpointed with the
    /// actions observed so far; nil when it cannot be stored faithfully (a user request no
    /// version of its schema carries), and then the recording cannot go on.
    public func entry(_ payload: RecordingEntry.Payload, now: Instant) -> [UInt8]? {
        RecordingEntry(now: now, actionsObserved: digest.actions, digest: digest.value, payload: payload).encoded()
    }

    /// The end marker: the recording stops here.
    public func endEntry(now: Instant) -> [UInt8] {
        RecordingEntry(now: now, actionsObserved: digest.actions, digest: digest.value, payload: .end).encoded()!
    }
}
