/// `Array.withUnsafeBytes` rethrows untyped errors; these keep a typed error typed.
@inline(__always)
func withUnsafeBytesTyped<R, E: Error>(_ a: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let r: Result<R, E> = a.withUnsafeBytes { p in Result { () throws(E) -> R in try body(p) } }
    return try r.get()
}

@inline(__always)
func withUnsafeBytesTyped<R, E: Error>(_ a: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let r: Result<R, E> = a.withUnsafeBytes { p in Result { () throws(E) -> R in try body(p) } }
    return try r.get()
}

@inline(__always)
func withUnsafeMutableBytesTyped<R, E: Error>(_ a: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let r: Result<R, E> = a.withUnsafeMutableBytes { p in Result { () throws(E) -> R in try body(p) } }
    return try r.get()
}

extension Array where Element == UInt8 {
    /// The bytes of `self[range]` with a typed error.
    @inline(__always)
    func withUnsafeBytesTypedSlice<R, E: Error>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let r: Result<R, E> = withUnsafeBytes { p in
            Result { () throws(E) -> R in try body(UnsafeRawBufferPointer(rebasing: p[range])) }
        }
        return try r.get()
    }
}
