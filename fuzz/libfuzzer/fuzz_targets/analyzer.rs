#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mirador_fuzz::analyzer(data));
