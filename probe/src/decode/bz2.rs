//! bzip2 decompression on every core.
//!
//! A bzip2 stream is a sequence of independently compressed blocks, each
//! starting with the 48-bit magic `0x314159265359` at any bit position and
//! the stream ending with `0x177245385090` and a CRC. This module finds the
//! block boundaries by scanning for those magics, wraps each block in a
//! one-block stream of its own (header `BZh9`, the block's bits realigned,
//! the end-of-stream magic and, as the combined CRC of a single block, the
//! block's own CRC), decompresses the blocks on worker threads with
//! libbz2, and sends the output in order. The compressed input is read
//! whole first (it is the small side: RIB dumps compress about tenfold);
//! the output is held at most a few blocks ahead of the reader.
//!
//! A magic can occur inside compressed data by chance. Such a false boundary
//! makes the block fail its CRC; then the whole input is decompressed again
//! sequentially and the output resumes where it stopped, so the result is
//! always what a sequential decoder gives. A file cut short ends with an
//! `UnexpectedEof` error after the last whole block, as a streaming decoder
//! would.

use super::input::{pump, Chunk};
use bzip2::read::MultiBzDecoder;
use bzip2::{Decompress, Status};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Condvar, Mutex};

const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
const END_MAGIC: u64 = 0x1772_4538_5090;
const MAGIC_MASK: u64 = (1 << 48) - 1;

/// One compressed block: bits `[start, end)` of the input, from its magic
/// up to the next magic; `terminated` is false for a block that runs to the
/// end of a cut-short input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    terminated: bool,
}

/// Decompresses bzip2 `input` and sends the output through `tx`.
pub fn decode(mut input: impl Read, tx: &SyncSender<Chunk>) {
    let mut data = Vec::new();
    if let Err(e) = input.read_to_end(&mut data) {
        let _ = tx.send(Err(e));
        return;
    }
    let spans = find_blocks(&data);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if spans.is_empty() || workers < 2 {
        pump(MultiBzDecoder::new(&data[..]), tx);
        return;
    }
    let sent = match parallel(&data, &spans, workers, tx) {
        Outcome::Done => return,
        Outcome::Cut => {
            let _ = tx.send(Err(io::ErrorKind::UnexpectedEof.into()));
            return;
        }
        Outcome::Failed { sent } => sent,
    };
    // A block failed: decompress it all again and go on after what was sent.
    let mut dec = MultiBzDecoder::new(&data[..]);
    match io::copy(&mut (&mut dec).take(sent as u64), &mut io::sink()) {
        Ok(n) if n == sent as u64 => pump(dec, tx),
        Ok(_) => {
            let _ = tx.send(Err(io::ErrorKind::UnexpectedEof.into()));
        }
        Err(e) => {
            let _ = tx.send(Err(e));
        }
    }
}

/// Bit positions of every block magic, each paired with the position of
/// the next magic of either kind.
fn find_blocks(data: &[u8]) -> Vec<Span> {
    let mut marks = Vec::new();
    let mut window: u64 = 0;
    for (i, &byte) in data.iter().enumerate() {
        window = (window << 8) | u64::from(byte);
        // The magics that end within this byte, earliest first.
        for k in (0..8).rev() {
            let bits = (window >> k) & MAGIC_MASK;
            let end = i * 8 + 8 - k;
            if (bits == BLOCK_MAGIC || bits == END_MAGIC) && end >= 48 {
                marks.push((end - 48, bits == BLOCK_MAGIC));
            }
        }
    }
    let mut spans = Vec::new();
    for (n, &(start, is_block)) in marks.iter().enumerate() {
        if !is_block {
            continue;
        }
        let next = marks.get(n + 1).map(|&(p, _)| p);
        spans.push(Span {
            start,
            end: next.unwrap_or(data.len() * 8),
            terminated: next.is_some(),
        });
    }
    spans
}

enum Outcome {
    /// Every block was sent.
    Done,
    /// Every whole block was sent; the input ends inside the last one.
    Cut,
    /// A block did not decompress; `sent` octets were sent before it.
    Failed { sent: usize },
}

/// Work shared between the workers and the thread that sends in order.
struct Shared {
    next: AtomicUsize,
    state: Mutex<Progress>,
    changed: Condvar,
}

struct Progress {
    /// Decompressed blocks not sent yet (`None`: failed).
    done: BTreeMap<usize, Option<Vec<u8>>>,
    /// The block the sender waits for.
    sending: usize,
    /// Set when the sender stops early.
    stop: bool,
}

fn parallel(data: &[u8], spans: &[Span], workers: usize, tx: &SyncSender<Chunk>) -> Outcome {
    let shared = Shared {
        next: AtomicUsize::new(0),
        state: Mutex::new(Progress {
            done: BTreeMap::new(),
            sending: 0,
            stop: false,
        }),
        changed: Condvar::new(),
    };
    // Blocks decompressed ahead of the sender, at most.
    let ahead = 2 * workers;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(data, spans, ahead, &shared));
        }
        let outcome = send_in_order(spans, tx, &shared);
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.stop = true;
        drop(st);
        shared.changed.notify_all();
        outcome
    })
}

fn work(data: &[u8], spans: &[Span], ahead: usize, shared: &Shared) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(span) = spans.get(i) else {
            return;
        };
        {
            let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            while !st.stop && i >= st.sending + ahead {
                st = shared.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.stop {
                return;
            }
        }
        let out = inflate(&single_block_stream(data, span));
        let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.done.insert(i, out);
        drop(st);
        shared.changed.notify_all();
    }
}

fn send_in_order(spans: &[Span], tx: &SyncSender<Chunk>, shared: &Shared) -> Outcome {
    let mut sent = 0;
    for (i, span) in spans.iter().enumerate() {
        let out = {
            let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(out) = st.done.remove(&i) {
                    st.sending = i + 1;
                    break out;
                }
                st = shared.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        shared.changed.notify_all();
        match out {
            Some(block) => {
                sent += block.len();
                if tx.send(Ok(block)).is_err() {
                    return Outcome::Done;
                }
            }
            None if !span.terminated => return Outcome::Cut,
            None => return Outcome::Failed { sent },
        }
    }
    if spans.last().is_some_and(|s| !s.terminated) {
        return Outcome::Cut;
    }
    Outcome::Done
}

/// A bit writer appending to a byte vector.
struct Bits {
    out: Vec<u8>,
    /// Bits used in the last octet (0 when it is full or there is none).
    used: u32,
}

impl Bits {
    fn push(&mut self, value: u64, n: u32) {
        for k in (0..n).rev() {
            let bit = ((value >> k) & 1) as u8;
            if self.used == 0 {
                self.out.push(0);
            }
            if let Some(last) = self.out.last_mut() {
                *last |= bit << (7 - self.used);
            }
            self.used = (self.used + 1) % 8;
        }
    }
}

/// Bits `[from, to)` of `data` as a value of up to 64 bits.
fn read_bits(data: &[u8], from: usize, n: usize) -> u64 {
    (from..from + n).fold(0, |acc, bit| {
        let b = data.get(bit / 8).map_or(0, |&b| (b >> (7 - bit % 8)) & 1);
        (acc << 1) | u64::from(b)
    })
}

/// The block of `span` as a stream of its own.
fn single_block_stream(data: &[u8], span: &Span) -> Vec<u8> {
    let len = span.end - span.start;
    let mut out = Vec::with_capacity(len / 8 + 16);
    out.extend_from_slice(b"BZh9");
    let (first, shift) = (span.start / 8, (span.start % 8) as u32);
    let whole = len / 8;
    for j in 0..whole {
        let hi = data[first + j];
        let lo = data.get(first + j + 1).copied().unwrap_or(0);
        out.push(if shift == 0 {
            hi
        } else {
            (hi << shift) | (lo >> (8 - shift))
        });
    }
    let mut bits = Bits { out, used: 0 };
    let rest = len % 8;
    bits.push(read_bits(data, span.start + whole * 8, rest), rest as u32);
    // The combined CRC of a one-block stream is that block's CRC.
    let crc = read_bits(data, span.start + 48, 32);
    bits.push(END_MAGIC, 48);
    bits.push(crc, 32);
    bits.out
}

/// Decompresses a whole one-block stream; `None` if it is not one.
fn inflate(stream: &[u8]) -> Option<Vec<u8>> {
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(1 << 20);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity());
        }
        let (in_before, out_before) = (d.total_in(), out.len());
        let consumed = usize::try_from(in_before).ok()?;
        match d.decompress_vec(stream.get(consumed..)?, &mut out) {
            Ok(Status::StreamEnd) => return Some(out),
            Ok(_) if d.total_in() == in_before && out.len() == out_before => return None,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;

    fn bzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn run(input: &[u8]) -> (Vec<u8>, Option<io::ErrorKind>) {
        let (tx, rx) = mpsc::sync_channel(4);
        let input = input.to_vec();
        let t = std::thread::spawn(move || decode(&input[..], &tx));
        let mut out = Vec::new();
        let mut err = None;
        for c in rx {
            match c {
                Ok(b) => out.extend(b),
                Err(e) => err = Some(e.kind()),
            }
        }
        t.join().unwrap();
        (out, err)
    }

    /// Data that compresses to many level-1 (100 kB) blocks.
    fn sample() -> Vec<u8> {
        let mut x: u32 = 7;
        (0..600_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b"abcdefgh"[(x >> 28) as usize % 8]
            })
            .collect()
    }

    #[test]
    fn blocks_decode_to_the_input() {
        let data = sample();
        let z = bzip(&data, 1);
        assert!(find_blocks(&z).len() >= 5);
        let (got, err) = run(&z);
        assert_eq!(err, None);
        assert!(got == data);
        // Two streams back to back.
        let z2 = [bzip(&data[..300_000], 1), bzip(&data[300_000..], 2)].concat();
        let (got, err) = run(&z2);
        assert_eq!(err, None);
        assert!(got == data);
    }

    #[test]
    fn cut_input_ends_after_the_last_whole_block() {
        let data = sample();
        let z = bzip(&data, 1);
        let spans = find_blocks(&z);
        let cut = spans[3].start / 8 + 100;
        let (got, err) = run(&z[..cut]);
        assert_eq!(err, Some(io::ErrorKind::UnexpectedEof));
        assert!(data.starts_with(&got));
        // What a streaming decoder recovers, no more, no less.
        let mut seq = Vec::new();
        let _ = MultiBzDecoder::new(&z[..cut]).read_to_end(&mut seq);
        assert_eq!(got.len(), seq.len());
    }

    #[test]
    fn false_boundary_falls_back_to_sequential() {
        let data = sample();
        let z = bzip(&data, 1);
        let mut spans = find_blocks(&z);
        // Split the second block in two, as a chance magic inside it would.
        let s = spans[1];
        let mid = Span {
            start: s.start + 4000,
            ..s
        };
        spans[1].end = mid.start;
        spans.insert(2, mid);
        let (tx, rx) = mpsc::sync_channel(64);
        let outcome = parallel(&z, &spans, 2, &tx);
        drop(tx);
        let Outcome::Failed { sent } = outcome else {
            panic!("the split block must fail");
        };
        let got: Vec<u8> = rx.into_iter().flat_map(Result::unwrap).collect();
        assert_eq!(got.len(), sent);
        assert!(data.starts_with(&got));
    }

    #[test]
    fn bit_helpers() {
        let mut b = Bits {
            out: Vec::new(),
            used: 0,
        };
        b.push(0b101, 3);
        b.push(0xff, 8);
        assert_eq!(b.out, vec![0b1011_1111, 0b1110_0000]);
        assert_eq!(read_bits(&[0b1010_0000, 0xff], 1, 9), 0b0_1000_0011);
    }
}
