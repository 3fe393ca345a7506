import NIOConcurrencyHelpers

/// One answer awaited by one task, which may stop waiting when cancelled: `finish` is
/// handed to whatever answers (any thread), `value` waits for the answer or the task's
/// cancellation, whichever comes first; the later one is ignored. What the answer was for
/// may still happen after a cancel: callers document that.
final class CancellableWait<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var result: T?
        var done = false
    }
    private let state = NIOLockedValueBox(State())

    init() {}

    /// The first call wins; later ones do nothing.
    func finish(_ value: T) {
        let c: CheckedContinuation<T, Never>? = state.withLockedValue { s in
            guard !s.done else { return nil }
            s.done = true
            s.result = value
            defer { s.continuation = nil }
            return s.continuation
        }
        c?.resume(returning: value)
    }

    /// The answer, or `cancelled` once the calling task is cancelled (at once if it is already).
    func value(cancelled: T) async -> T {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
                let early: T? = state.withLockedValue { s in
                    if s.done { return s.result }
                    s.continuation = c
                    return nil
                }
                if let early { c.resume(returning: early) }
            }
        } onCancel: {
            finish(cancelled)
        }
    }
}

extension CancellableWait where T == Void {
    func value() async { await value(cancelled: ()) }
}

enum Deadline {
    /// Runs `body` with a deadline: past `timeout` the body's task is cancelled (so a body
    /// made of cancellable waits returns promptly). True when the body finished in time.
    @discardableResult
    static func run(within timeout: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { g in
            g.addTask { await body(); return true }
            g.addTask { try? await Task.sleep(for: timeout); return false }
            let bodyFirst = await g.next() ?? false
            g.cancelAll()
            return bodyFirst
        }
    }
}
