//! Fuzzes the record decoder: damaged bytes give `Error::Corrupt`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = fullsync_engine::codec::decode_record(data) {
        let again = fullsync_engine::codec::encode_record(&rec);
        assert_eq!(fullsync_engine::codec::decode_record(&again).unwrap(), rec);
    }
    let _ = fullsync_engine::codec::decode_body(data);
});
