import KafkaFuzzChecks

// libFuzzer entry point; built only by Tests/Fuzz/fuzz.sh (--sanitize=fuzzer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    ParserFuzzChecks.recording(Array(UnsafeRawBufferPointer(start: data, count: size)))
    return 0
}
