//! MRT streams: `mrt::RecordIter` over the input as a decompressed stream
//! in memory, and `mrt::MrtReader::new` over a `Cursor` of the same octets,
//! which sniffs gzip and bzip2 first.
//!
//! Every record is walked and what it carries is decoded: BGP4MP and
//! BGP4MP_ET messages through `Message::new_checked` with the record's
//! context, TABLE_DUMP_V2 RIB entry attributes and legacy TABLE_DUMP
//! attributes through `attr::Attributes::new_checked` with their
//! `attribute_context()`; peer index tables, RIB_GENERIC and state changes
//! through all their accessors. Iterators over validated peer tables and
//! RIB records must yield exactly the announced number of items.
//!
//! For input that is not compressed, the two readers must agree: the same
//! records and the same errors at the same offsets, as the reader module
//! promises. Compressed input is read through the reader only, bounded in
//! record count and decompressed size.
#![no_main]

use bgp_proto::mrt::{Compression, MrtError, MrtReader, Record, RecordIter};
use bgp_proto_fuzz::walk_record;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

/// Largest record length accepted, well below the crate's 16 MiB default so
/// one input cannot make a run allocate much; the length check is exercised
/// all the same.
const MAX_RECORD_LEN: u32 = 1 << 20;
/// Bounds on how much a compressed input may make the reader produce.
const MAX_RECORDS: usize = 4096;
const MAX_DECOMPRESSED: u64 = 8 << 20;

/// An error as comparable text: offset and kind.
fn describe(e: &MrtError) -> String {
    format!("{} {:?}", e.offset, e.kind)
}

fuzz_target!(|data: &[u8]| {
    let from_iter: Vec<Result<Record<'_>, MrtError>> = RecordIter::new(data)
        .with_max_record_len(MAX_RECORD_LEN)
        .collect();
    for r in &from_iter {
        match r {
            Ok(rec) => walk_record(rec),
            Err(e) => {
                let _ = (e.to_string(), e.is_truncated(), e.is_recoverable());
            }
        }
    }

    let plain = Compression::detect(data) == Compression::None;
    let mut reader = MrtReader::new(Cursor::new(data)).with_max_record_len(MAX_RECORD_LEN);
    let mut n = 0usize;
    while let Some(r) = reader.next_record() {
        if plain {
            let expected = from_iter
                .get(n)
                .unwrap_or_else(|| panic!("MrtReader yields more than RecordIter ({n} items)"));
            match (&r, expected) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "record {n} differs between the readers"),
                (Err(a), Err(b)) => assert_eq!(
                    describe(a),
                    describe(b),
                    "error {n} differs between the readers"
                ),
                _ => panic!(
                    "item {n}: MrtReader gave {:?}, RecordIter gave {:?}",
                    r.as_ref().map(|_| ()).map_err(describe),
                    expected.as_ref().map(|_| ()).map_err(describe)
                ),
            }
        } else if let Ok(rec) = &r {
            walk_record(rec);
        }
        n += 1;
        if !plain && (n >= MAX_RECORDS || reader.offset() > MAX_DECOMPRESSED) {
            return;
        }
    }
    if plain {
        assert_eq!(reader.compression(), Some(Compression::None));
        assert_eq!(
            n,
            from_iter.len(),
            "MrtReader yields fewer items than RecordIter"
        );
    } else {
        assert_eq!(reader.compression(), Some(Compression::detect(data)));
    }
});
