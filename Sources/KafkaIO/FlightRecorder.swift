import KafkaProtocol
import KafkaStateMachines
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Where and how much the flight recorder writes (docs/flight-recorder.md).
public struct FlightRecorderConfiguration: Sendable {
    /// Segment files are named `<path>-000001.kgorec`, `<path>-000002.kgorec`, ...
    public var path: String
    /// A segment is closed and the next one started once it holds this many bytes.
    public var maxSegmentBytes = 64 * 1024 * 1024
    /// The recording stops (with an end marker) when the last allowed segment is full:
    /// a replay needs every input from the start, so older segments are never dropped.
    public var maxSegments = 16
    /// Store SASL passwords, so logins replay too. Off by default: the file then holds no
    /// secret, and a replay diverges at the first SCRAM/PLAIN login.
    public var includeSecrets = false

    /// Records to `<path>-000001.kgorec`, … with the default limits.
    public init(path: String) { self.path = path }
}

/// Writes the engine's inputs to segment files as the driver feeds them. Confined to the
/// driver's event loop (the OAUTHBEARER provider wrapper calls it from there too).
/// Writes are plain blocking `write(2)` calls in chunks of at most `flushBytes`, from the
/// loop: keep recordings on a local disk.
final class FlightRecorder: @unchecked Sendable {
    private let configuration: FlightRecorderConfiguration
    private let logger: Logger
    private let recordingId: UInt64
    private var tap = RecordingTap()
    private var fd: Int32 = -1
    private var segment = 0
    private var segmentBytes = 0
    private var buffer: [UInt8] = []
    private(set) var stopped = false
    private let flushBytes = 64 * 1024
    /// Entries wait in memory at most this long (of the driver's clock) before a write, so a
    /// crash loses little while a busy client still writes in large chunks.
    private let flushInterval = Interval.milliseconds(100)
    private var lastFlush = Instant.zero
    private var lastNow = Instant.zero

    /// Opens segment 1 and writes how the engine is made.
    init(configuration: FlightRecorderConfiguration, engineConfig: EngineConfig, seed: UInt64, logger: Logger) throws(KafkaConfigurationError) {
        guard configuration.maxSegmentBytes >= 4096, configuration.maxSegments >= 1 else {
            throw .flightRecorder("maxSegmentBytes must be at least 4096 and maxSegments at least 1")
        }
        self.configuration = configuration
        self.logger = logger
        self.recordingId = UInt64.random(in: .min ... .max)
        let start = RecordingStart(seed: seed, libraryVersion: engineConfig.clientSoftwareVersion,
                                   config: RecordedConfig.encode(engineConfig, includeSecrets: configuration.includeSecrets))
        if let error = openSegment(1, start: start) { throw .flightRecorder(error) }
    }

    func observe(_ action: Action) {
        guard !stopped else { return }
        tap.observe(action)
    }

    func record(_ input: EngineInput, now: Instant) { record(.input(input), now: now) }

    /// Records an entry, or stops the recording when it cannot be stored faithfully (a user
    /// request no version of its schema carries).
    func record(_ payload: RecordingEntry.Payload, now: Instant) {
        guard !stopped else { return }
        lastNow = now
        guard let bytes = tap.entry(payload, now: now) else {
            var what = "an input"
            if case .input(.request(let r)) = payload { what = "a \(type(of: r.request).messageName)" }
            stop(now: now, reason: "\(what) cannot be stored faithfully at any version")
            return
        }
        append(bytes, now: now)
    }

    /// Called after the driver handled an input: writes out entries older than the flush interval.
    func flushIfIdle() {
        guard !stopped, !buffer.isEmpty, lastNow >= lastFlush + flushInterval else { return }
        flush()
    }

    /// Writes the end marker and closes the file.
    func finish(now: Instant) { stop(now: now, reason: nil) }

    // MARK: files

    private func append(_ entry: [UInt8], now: Instant) {
        if segmentBytes + buffer.count + entry.count > configuration.maxSegmentBytes {
            flush()
            guard segment < configuration.maxSegments else {
                stop(now: now, reason: "size limit reached (\(configuration.maxSegments) segments of \(configuration.maxSegmentBytes) bytes)")
                return
            }
            close(fd)
            fd = -1
            if let error = openSegment(segment + 1, start: nil) {
                stopped = true
                logger.warning("flight recorder stopped", metadata: ["reason": "\(error)"])
                return
            }
        }
        buffer.append(contentsOf: entry)
        if buffer.count >= flushBytes { flush() }
    }

    func stop(now: Instant, reason: String?) {
        guard !stopped else { return }
        // The end marker may overshoot the segment limit by its few bytes.
        buffer.append(contentsOf: tap.endEntry(now: now))
        flush()
        stopped = true
        if fd >= 0 { close(fd); fd = -1 }
        if let reason { logger.warning("flight recorder stopped", metadata: ["reason": "\(reason)", "path": "\(configuration.path)"]) }
    }

    private func openSegment(_ index: Int, start: RecordingStart?) -> String? {
        let name = RecordingFormat.segmentName(base: configuration.path, index: index)
        let f = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard f >= 0 else { return "cannot create \(name): errno \(errno)" }
        fd = f
        segment = index
        segmentBytes = 0
        buffer = RecordingHeader(recordingId: recordingId, segmentIndex: UInt32(index), start: start).encoded()
        flush()
        return stopped ? "cannot write \(name)" : nil
    }

    /// Writes the buffer out; a failed write stops the recording.
    func flush() {
        guard fd >= 0, !buffer.isEmpty else { return }
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                logger.warning("flight recorder stopped", metadata: ["reason": "write failed: errno \(errno)"])
                stopped = true
                close(fd)
                fd = -1
                break
            }
            written += n
        }
        segmentBytes += written
        lastFlush = lastNow
        buffer.removeAll(keepingCapacity: true)
    }
}
