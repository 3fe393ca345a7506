#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A child process for the tests, started with posix_spawn.
///
/// Not Foundation's `Process`: on Linux with Swift 6.3.1 its `run()` reads 256 bytes past a
/// `readdir` record while it counts the open descriptors under /proc/self/fd
/// (swift-corelibs-foundation PR #5472, merged after 6.3.1). With many descriptors open the
/// record sits at the end of glibc's buffer, and when the next page is unmapped the whole
/// test process dies with "Bad pointer dereference" (CI trial 5: once in ~1,087 tests that
/// run in parallel with hundreds of sockets open; AddressSanitizer names the read).
///
/// The surface follows `Process` (`isRunning`, `terminate`, `waitUntilExit`,
/// `terminationStatus`), so the tests read the same. Every descriptor above 2 is closed in
/// the child, so a child never holds another test's pipe open.
public final class ChildProcess: @unchecked Sendable {
    /// Where a standard stream of the child goes.
    public enum Stream: Sendable {
        /// A pipe to this process (its end in `standardInput`/`standardOutput`/`standardError`).
        case pipe
        /// /dev/null.
        case null
        /// Standard error only (a precondition): into the same pipe or file as standard output.
        case mergeIntoStandardOutput
        /// This process's own descriptor.
        case inherit
    }

    public enum SpawnError: Error, CustomStringConvertible {
        case failed(String, errno: Int32)
        public var description: String {
            switch self {
            case let .failed(what, errno): return "\(what): \(String(cString: strerror(errno)))"
            }
        }
    }

    public let processIdentifier: pid_t
    /// The write end of the child's standard input (`.pipe`), else nil.
    public let standardInput: FileHandle?
    /// The read end of the child's standard output (`.pipe`), else nil.
    public let standardOutput: FileHandle?
    /// The read end of the child's standard error (`.pipe`), else nil.
    public let standardError: FileHandle?

    private let lock = NSLock()
    /// The wait status once the child is reaped. After that its pid may belong to another
    /// process, so nothing signals it again (checked under `lock`, where reaping happens).
    private var status: Int32?

    /// Starts `executable` with `arguments` (argv[0] is the executable's path) and
    /// `environment` (nil: this process's).
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                standardInput stdinMode: Stream = .null, standardOutput stdoutMode: Stream = .pipe,
                standardError stderrMode: Stream = .pipe) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // This process's ends of the pipes, wrapped in FileHandles only once the child runs
        // (closed here if it never does); the child's ends are closed here either way.
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var spawned = false
        defer { if !spawned { for fd in parentEnds { close(fd) } } }
        /// Connects the child's descriptor `fd` (0, 1 or 2) as `mode` says; this process's
        /// end of a pipe, if any.
        func connect(_ fd: Int32, _ mode: Stream) throws -> Int32? {
            let childReads = fd == 0
            switch mode {
            case .pipe:
                var fds: [Int32] = [0, 0]
                guard GNU.pipe2(&fds, O_CLOEXEC) == 0 else { throw SpawnError.failed("pipe2", errno: errno) }
                let (mine, theirs) = childReads ? (fds[1], fds[0]) : (fds[0], fds[1])
                parentEnds.append(mine)
                childEnds.append(theirs)
                posix_spawn_file_actions_adddup2(&actions, theirs, fd)
                return mine
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", childReads ? O_RDONLY : O_WRONLY, 0)
            case .mergeIntoStandardOutput:
                precondition(fd == 2, "only standard error merges into standard output")
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            case .inherit:
                break
            }
            return nil
        }
        let input = try connect(0, stdinMode), output = try connect(1, stdoutMode), error = try connect(2, stderrMode)
        if let closeFrom = GNU.addCloseFrom { _ = closeFrom(&actions, 3) }

        // Signals back to their defaults and none blocked, as a shell would start it (this
        // process ignores SIGPIPE, which would otherwise carry over into the child).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &argv, &envp)
        guard rc == 0 else { throw SpawnError.failed("posix_spawn \(executable)", errno: rc) }
        spawned = true
        processIdentifier = pid
        standardInput = input.map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        standardOutput = output.map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        standardError = error.map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
    }

    /// Whether the child has not exited yet (reaps it if it has).
    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        guard status == nil else { return false }
        var st: Int32 = 0
        if waitpid(processIdentifier, &st, WNOHANG) == processIdentifier {
            status = st
            return false
        }
        return true
    }

    /// Sends `signal` unless the child was already reaped.
    public func signal(_ signal: Int32) {
        lock.lock(); defer { lock.unlock() }
        if status == nil { kill(processIdentifier, signal) }
    }

    /// SIGTERM, as `Process.terminate()`.
    public func terminate() { signal(SIGTERM) }

    /// Blocks until the child exits and reaps it.
    public func waitUntilExit() {
        while true {
            // Waits without reaping, outside the lock, so `signal` can still run meanwhile.
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT)
            if r != 0 && errno == EINTR { continue }
            lock.lock()
            if status == nil {
                var st: Int32 = 0
                let r = waitpid(processIdentifier, &st, 0)
                if r == processIdentifier { status = st }
                // Reaped elsewhere (not by this class): report exit 255 rather than wait forever.
                else if r == -1 && errno == ECHILD { status = 255 << 8 }
            }
            let done = status != nil
            lock.unlock()
            if done { return }
        }
    }

    /// The exit code, or the number of the signal that ended the child (as `Process`).
    /// Only after `waitUntilExit` or `isRunning` returned false.
    public var terminationStatus: Int32 {
        lock.lock(); defer { lock.unlock() }
        guard let st = status else { preconditionFailure("terminationStatus of a running child") }
        return st & 0x7f == 0 ? (st >> 8) & 0xff : st & 0x7f
    }
}

/// glibc functions that Swift's Glibc module leaves out (they need _GNU_SOURCE), looked up
/// by name: both exist in glibc 2.34 and later (Debian 12 has 2.36).
private enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// pipe2(2): both ends close-on-exec from the start, so a child another thread spawns
    /// meanwhile never inherits them. Without it, pipe(2) then FD_CLOEXEC.
    static func pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32 {
        if let f = pipe2Function { return f(fds, flags) }
        guard pipe(fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }

    private static let pipe2Function: Pipe2? = lookUp("pipe2")
    /// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from 3 on.
    static let addCloseFrom: AddCloseFrom? = lookUp("posix_spawn_file_actions_addclosefrom_np")

    private static func lookUp<F>(_ name: String) -> F? {
        // RTLD_DEFAULT is a null handle on glibc.
        guard let symbol = dlsym(nil, name) else { return nil }
        return unsafeBitCast(symbol, to: F.self)
    }
}
