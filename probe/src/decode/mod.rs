//! `bgp-probe decode`: MRT files to text, one line per route.
//!
//! The default output is exactly that of `bgpdump -m` ([`bgpdump`]);
//! `--format json` prints one JSON object per route with every attribute
//! ([`json`]); `--hex` decodes a single BGP message given in hex ([`hex`]).
//! Files are read through [`input`] (plain, gzip or bzip2, decompressed on
//! other threads) and cut into records by `bgp-proto`'s MRT reader.
//!
//! Errors go to standard error as `bgp-probe: FILE: ...`, with the offset of
//! the record in the decompressed stream, and decoding goes on with the next
//! record (a malformed record) or the next file (an unreadable one); the
//! exit status is 1 if any file had such an error. A stream that ends inside
//! a record — typically a compressed file cut short — is different: every
//! whole record before it is decoded, a warning names the offset, and the
//! file does not count as failed. This matches bgpdump, which prints the
//! same lines and exits with 0 for such files.

mod bgpdump;
mod bz2;
mod fmt;
mod hex;
mod input;
mod json;

use bgp_proto::mrt::{Compression, MrtError, MrtReader};
use clap::{Args, ValueEnum};
use input::Input;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The long help of `decode`.
pub const LONG_ABOUT: &str = "\
Decode MRT files (RFC 6396: TABLE_DUMP, TABLE_DUMP_V2, BGP4MP, BGP4MP_ET; \
plain, gzip or bzip2) and print one line per route in the format of \
`bgpdump -m`, byte for byte, or one JSON object per route.

Line format (`|`-separated, as bgpdump 1.6.2 prints it):
  TABLE_DUMP2|time|B|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|AG/NAG|aggregator|
  BGP4MP|time|A|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|AG/NAG|aggregator|
  BGP4MP|time|W|peer_ip|peer_as|prefix
  BGP4MP|time|STATE|peer_ip|peer_as|old_state|new_state
BGP4MP_ET records print time.microseconds; ADD-PATH records add the path id \
after the prefix. OPEN, KEEPALIVE and NOTIFICATION messages print nothing.

Errors name the file and the offset of the record in the decompressed \
stream; decoding goes on, and the exit status is 1 if any file had one. A \
file that ends inside a record (a compressed file cut short) is decoded up \
to its last whole record with a warning, and is not an error.";

/// The examples closing the long help of `decode`.
pub const EXAMPLES: &str = "\
Examples:
  bgp-probe decode updates.20190101.0000.gz
  bgp-probe decode rib.20140523.0600.bz2 | grep '|1.0.0.0/24|'
  bgp-probe decode --format json updates.20190101.0000.gz | head -1
  bgp-probe decode --hex 'ffffffffffffffffffffffffffffffff 0013 04'
  bgp-probe decode --as2 --hex 'ffffffffffffffffffffffffffffffff 002d 02 0000 0012
      40010100 4002040201fde8 400304c0000201 18c63364'";

/// Arguments of `bgp-probe decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// MRT files to decode (`-` reads standard input)
    #[arg(
        value_name = "FILE",
        required_unless_present = "hex",
        conflicts_with = "hex"
    )]
    files: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Line)]
    format: Format,

    /// Decode one BGP message, marker included, given in hex (spaces and
    /// colons allowed) instead of files
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,

    /// With --hex: the session uses 2-octet AS numbers
    #[arg(long, requires = "hex")]
    as2: bool,

    /// With --hex: NLRI carry ADD-PATH path identifiers (every family)
    #[arg(long, requires = "hex")]
    add_path: bool,
}

/// What `decode` prints for each route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The one-line format of `bgpdump -m`
    Line,
    /// One JSON object per route, every attribute decoded
    Json,
}

/// Runs `bgp-probe decode`.
pub fn run(args: DecodeArgs) -> ExitCode {
    if let Some(text) = &args.hex {
        return hex::run(text, args.as2, args.add_path);
    }
    let stdout = io::stdout();
    let mut out = Output::new(stdout.lock());
    let mut failed = false;
    for path in &args.files {
        match decode_file(path, args.format, &mut out) {
            Ok(ok) => failed |= !ok,
            // Standard output went away (a closed pipe): stop quietly.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bgp-probe: writing output: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(e) = out.finish() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("bgp-probe: writing output: {e}");
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Turns records into output lines.
enum Writer {
    Line(bgpdump::Bgpdump),
    Json(json::Json),
}

/// Decodes one file into `out`. `Ok(false)` when the file had errors (they
/// were reported); `Err` only when writing the output failed.
fn decode_file(path: &Path, format: Format, out: &mut Output<impl Write>) -> io::Result<bool> {
    let name = path.display();
    let input = match Input::open(path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("bgp-probe: {name}: {e}");
            return Ok(false);
        }
    };
    let mut writer = match format {
        Format::Line => Writer::Line(bgpdump::Bgpdump::new()),
        Format::Json => Writer::Json(json::Json::new()),
    };
    let mut reader = MrtReader::with_compression(input, Compression::None);
    let mut ok = true;
    loop {
        let at = reader.offset();
        let Some(next) = reader.next_record() else {
            break;
        };
        let problem = match next {
            Ok(rec) => match &mut writer {
                Writer::Line(w) => w.record(&rec, &mut out.buf).err().map(|e| e.0),
                Writer::Json(w) => w.record(&rec, &mut out.buf).err(),
            },
            Err(e) => {
                match report(&name, &e) {
                    Stop::Next => ok = false,
                    Stop::File => {
                        ok = false;
                        break;
                    }
                    Stop::Truncated => break,
                }
                None
            }
        };
        if let Some(problem) = problem {
            eprintln!("bgp-probe: {name}: record at offset {at}: {problem}");
            ok = false;
        }
        out.flush_if_full()?;
    }
    Ok(ok)
}

/// What a reader error means for the rest of the file.
enum Stop {
    /// A malformed record: go on with the next one.
    Next,
    /// The stream cannot be read further.
    File,
    /// The stream ended inside a record: a warning, not a failure.
    Truncated,
}

fn report(name: &impl std::fmt::Display, e: &MrtError) -> Stop {
    if e.is_truncated() {
        eprintln!(
            "bgp-probe: {name}: warning: {e}; the stream ends inside this record, \
             every record before it was decoded"
        );
        Stop::Truncated
    } else {
        eprintln!("bgp-probe: {name}: {e}");
        if e.is_recoverable() {
            Stop::Next
        } else {
            Stop::File
        }
    }
}

/// Standard output behind one large buffer, written in big slices.
struct Output<W: Write> {
    buf: Vec<u8>,
    sink: W,
}

/// Output octets gathered before a write.
const FLUSH_AT: usize = 256 * 1024;

impl<W: Write> Output<W> {
    fn new(sink: W) -> Self {
        Self {
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            sink,
        }
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.sink.write_all(&self.buf)?;
        self.buf.clear();
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::mrt::RecordIter;

    /// A small deterministic generator of test octets.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// A record of `t`/`sub` whose body starts like a real one (peering
    /// fields, a marker) and goes on with noise.
    fn noisy_record(rng: &mut Rng, t: u16, sub: u16) -> Vec<u8> {
        let mut body = match t {
            16 | 17 => {
                let as4 = matches!(sub, 4 | 5 | 7 | 9 | 11);
                let mut b = vec![0; if as4 { 8 } else { 4 }];
                b.extend_from_slice(&[0, 0, 0, 1 + (rng.next() % 2) as u8]);
                b.extend(rng.bytes(if b[b.len() - 1] == 2 { 32 } else { 8 }));
                if sub != 0 && sub != 5 {
                    b.extend_from_slice(&[0xff; 16]);
                    let len = 19 + rng.next() % 200;
                    b.extend_from_slice(&(len as u16).to_be_bytes());
                    b.push(2);
                }
                b
            }
            _ => Vec::new(),
        };
        if t == 17 {
            body.splice(0..0, [0, 0, 0, 1]);
        }
        let n = (rng.next() % 300) as usize;
        body.extend(rng.bytes(n));
        let mut r = 1u32.to_be_bytes().to_vec();
        r.extend_from_slice(&t.to_be_bytes());
        r.extend_from_slice(&sub.to_be_bytes());
        r.extend_from_slice(&(body.len() as u32).to_be_bytes());
        r.extend(body);
        r
    }

    #[test]
    fn arbitrary_records_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut line = bgpdump::Bgpdump::new();
        let mut js = json::Json::new();
        let mut out = Vec::new();
        let mut lines = 0;
        for round in 0..20_000 {
            let t = [12u16, 13, 16, 17][round % 4];
            let sub = (rng.next() % 12) as u16;
            let rec = noisy_record(&mut rng, t, sub);
            for r in RecordIter::new(&rec).flatten() {
                let _ = line.record(&r, &mut out);
                lines += out.iter().filter(|&&b| b == b'\n').count();
                let _ = js.record(&r, &mut out);
            }
            out.clear();
        }
        // The noise reaches the formatters.
        assert!(lines > 10_000, "{lines}");
    }
}
