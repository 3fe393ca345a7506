import KafkaProtocol
import KafkaStateMachines

/// The flight-recording reader: any bytes read as a recording (whole, and cut into two
/// segments where the input's first byte says) give a recording or a typed
/// `FlightRecordingError`; what it returns, written again, reads back
/// the same.
enum RecordingFuzz {
    static func run(_ input: [UInt8]) {
        read([input])
        // Byte 0 picks where the input is cut into two segments (header bytes of a second
        // segment then come from the input too).
        if let first = input.first, input.count > 2 {
            let cut = 1 + Int(first) * (input.count - 1) / 256
            read([Array(input[1 ..< cut]), Array(input[cut...])])
        }
    }

    private static func read(_ segments: [[UInt8]]) {
        let recording: FlightRecording
        do { recording = try FlightRecording(segments: segments) } catch {
            _ = error.description
            return
        }
        // Written again as one segment, the entries read back equal.
        var bytes = RecordingHeader(recordingId: recording.recordingId, segmentIndex: 1, start: recording.start).encoded()
        for entry in recording.entries {
            guard let e = entry.encoded() else { fatalError("a read entry has no encoding: \(entry)") }
            bytes += e
        }
        let again: FlightRecording
        do { again = try FlightRecording(segments: [bytes]) } catch {
            fatalError("a read recording re-encodes to bytes that do not read: \(error)")
        }
        precondition(again.entries == recording.entries && again.start == recording.start,
                     "a read recording does not read back equal")
    }
}
