#if canImport(Glibc)
import Glibc
#endif

/// Standard input split into messages at a delimiter, the bytes as they are (binary safe):
/// what `kgo produce` reads. Text after the last delimiter is a message too; nothing after
/// it is none.
struct DelimitedInput {
    let delimiter: [UInt8]
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the delimiter search resumes: no match begins before it.
    private var scanned = 0
    private var eof = false

    init(delimiter: [UInt8], fd: Int32 = 0) {
        precondition(!delimiter.isEmpty, "validated by the command")
        self.delimiter = delimiter
        self.fd = fd
    }

    mutating func next() -> [UInt8]? {
        var chunk: [UInt8] = []
        while true {
            if let i = Escapes.index(of: delimiter, in: buffer, from: max(start, scanned)) {
                let message = Array(buffer[start ..< i])
                start = i + delimiter.count
                scanned = start
                return message
            }
            if eof {
                guard start < buffer.count else { return nil }
                let message = Array(buffer[start...])
                start = buffer.count
                return message
            }
            scanned = max(start, buffer.count - delimiter.count + 1)
            if start > 0 {
                buffer.removeFirst(start)
                scanned -= start
                start = 0
            }
            if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 1 << 16) }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.append(contentsOf: chunk[..<n])
            } else if n == 0 || errno != EINTR {
                eof = true
            }
        }
    }
}
