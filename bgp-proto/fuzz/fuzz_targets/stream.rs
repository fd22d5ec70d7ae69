//! Framing a TCP byte stream with `header::split_frame`.
//!
//! Input layout: one selector octet for the session context (as in the
//! `message` target: bit 0 4-octet AS, bit 1 ADD-PATH, bit 2 extended
//! messages, which sets the largest frame), then chunks, each a length
//! octet followed by up to that many stream octets. The chunks are appended
//! to a `BytesMut` one at a time and every whole frame is split off and
//! decoded with `Message::new_checked` (and walked when valid).
//!
//! Besides never panicking, framing must not depend on how the stream was
//! cut: the frames, the error that ends the stream (if any) and, without an
//! error, the octets left over must be exactly those of feeding the whole
//! stream at once. Every frame must hold exactly the octets its header
//! announces and pass the header checks again.
#![no_main]

use bgp_proto::header::{split_frame, Header};
use bgp_proto::Error;
use bgp_proto_fuzz::{check_message, context_from_byte, hex};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

/// What framing made of a stream.
#[derive(Debug, PartialEq, Eq)]
struct Framed {
    frames: Vec<Bytes>,
    error: Option<Error>,
    /// Octets still buffered at the end; only when no error stopped the
    /// feed (after an error, how much had arrived depends on the cuts).
    left: Option<Vec<u8>>,
}

/// Feeds `chunks` one at a time, splitting off frames after each; stops at
/// the first error, as a session would.
fn frame(chunks: &[&[u8]], max_len: usize) -> Framed {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match split_frame(&mut buf, max_len) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    return Framed {
                        frames,
                        error: Some(e),
                        left: None,
                    }
                }
            }
        }
    }
    Framed {
        frames,
        error: None,
        left: Some(buf.to_vec()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let ctx = context_from_byte(selector);
    let max_len = ctx.max_message_len();

    let mut chunks: Vec<&[u8]> = Vec::new();
    while let Some((&n, tail)) = rest.split_first() {
        let (chunk, tail) = tail.split_at(usize::from(n).min(tail.len()));
        chunks.push(chunk);
        rest = tail;
    }
    let whole = chunks.concat();

    let piecewise = frame(&chunks, max_len);
    for f in &piecewise.frames {
        let header = match Header::new_checked(f, max_len) {
            Ok(h) => h,
            Err(e) => panic!(
                "split_frame cut a frame whose header fails: {e}\n{}",
                hex(f)
            ),
        };
        assert_eq!(
            header.length(),
            f.len(),
            "frame length differs from its header"
        );
        check_message(f, &ctx);
    }

    let at_once = frame(&[&whole], max_len);
    assert_eq!(
        piecewise,
        at_once,
        "framing depends on how the stream was cut\nstream {}",
        hex(&whole)
    );
});
