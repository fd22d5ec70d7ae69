//! Whole BGP messages: decode, walk, and round-trip.
//!
//! The first input octet picks the session context (bit 0: 4-octet AS
//! numbers, bit 1: ADD-PATH for every decoded family, bit 2: extended
//! messages); the rest is one whole message, header included, handed to
//! `Message::new_checked`. On success every accessor and iterator of the
//! view is walked (for an UPDATE: `announced()`, `withdrawals()`,
//! `attribute_iter()`, `end_of_rib()`, every raw attribute decoded with
//! `validate = true`), then the message is parsed into its `MessageRepr`,
//! emitted again under the same context, decoded again, and the second
//! `MessageRepr` must equal the first. The emitted octets must also be
//! canonical (emitting the second repr reproduces them) and no longer than
//! the input.
#![no_main]

use bgp_proto_fuzz::{context_from_byte, round_trip_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, msg)) = data.split_first() else {
        return;
    };
    let ctx = context_from_byte(selector);
    round_trip_message(msg, &ctx);
});
