//! Path attributes fields on their own: `attr::Attributes::new_checked` on
//! the whole input under each of the eight attribute contexts (2- or
//! 4-octet AS, ADD-PATH or not, MRT RIB entry or not).
//!
//! A field that validates is walked completely: the typed iterator, every
//! raw attribute decoded with and without the validation walk (which must
//! agree whenever the validating decode succeeds), `get` for each type
//! present, AS paths (a valid one must encode back to its octets), MP
//! attributes and their NLRI (a checked NLRI run must encode back to its
//! octets). A rejected field must be a session reset. Outside the MRT RIB
//! entry contexts the owned forms of the attributes are emitted, validated
//! again and must come back equal.
#![no_main]

use bgp_proto::attr::Attributes;
use bgp_proto_fuzz::{attribute_contexts, check_attributes, round_trip_attributes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for ctx in attribute_contexts() {
        if check_attributes(data, &ctx) {
            let attrs = Attributes::new_checked(data, &ctx).expect("validated just now");
            round_trip_attributes(&attrs);
        }
    }
});
