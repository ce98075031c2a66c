#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qmp_codec_fuzz::agent(data));
