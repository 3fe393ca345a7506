#if canImport(Glibc)
import Glibc
#endif

/// Where `kgo produce` reads its messages: standard input split at the delimiter; or named
/// files, each one whole message (kcat's default with files) or, with -l, split at the
/// delimiter as standard input is. Every file is opened before anything is sent, so a
/// missing one fails before the first record.
struct ProduceInput {
    private var files: [(path: String, fd: Int32)]
    private let delimiter: [UInt8]
    private let splitFiles: Bool
    private var current: DelimitedInput?
    private var index = 0

    init(files paths: [String], delimiter: [UInt8], splitFiles: Bool) throws {
        self.delimiter = delimiter
        self.splitFiles = splitFiles
        files = []
        if paths.isEmpty {
            current = DelimitedInput(delimiter: delimiter, fd: 0)
            return
        }
        for path in paths {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                let why = String(cString: strerror(errno))
                for f in files { close(f.fd) }
                throw KgoFailure("cannot read \(path): \(why)")
            }
            files.append((path, fd))
        }
    }

    /// The next message; nil after the last.
    mutating func next() throws -> [UInt8]? {
        while true {
            if current != nil {
                if let m = current!.next() { return m }
                current = nil
                if index > 0 { close(files[index - 1].fd) }
            }
            guard index < files.count else { return nil }
            let (path, fd) = files[index]
            index += 1
            if splitFiles {
                current = DelimitedInput(delimiter: delimiter, fd: fd)
                continue
            }
            defer { close(fd) }
            return try Self.readAll(fd, path: path)
        }
    }

    private static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { out.append(contentsOf: chunk[..<n]); continue }
            if n == 0 { return out }
            if errno == EINTR { continue }
            throw KgoFailure("cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }
}
