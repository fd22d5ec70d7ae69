//! Cutting an MRT stream into records.
//!
//! [`MrtReader`] reads from any `std::io::Read`, detecting gzip and bzip2
//! from the first octets, and lends one [`Record`] at a time out of a buffer
//! it reuses. [`RecordIter`] walks a decompressed stream already in memory
//! and yields records that borrow it, copying nothing.
//!
//! Both report the same errors at the same offsets (of the decompressed
//! stream). A stream that ends inside a record, including a compressed file
//! cut short (the decompressor's "unexpected end of file"), ends with
//! [`Truncated`](MrtErrorKind::Truncated) after every whole record before it
//! was yielded. A Length above the cap ([`MAX_RECORD_LEN`] unless changed)
//! is an error, not an allocation. After a [`Malformed`](MrtErrorKind::Malformed)
//! record, whose framing is intact, reading goes on; after any other error
//! the reader is finished.

use super::error::{MrtError, MrtErrorKind};
use super::record::{Record, RecordHeader, HEADER_LEN, MAX_RECORD_LEN};
use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

/// Size of the buffer between the (decompressed) stream and the framing.
const BUF_SIZE: usize = 64 * 1024;

/// How a stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Plain MRT.
    None,
    /// gzip, possibly several members (RFC 1952).
    Gzip,
    /// bzip2, possibly several streams.
    Bzip2,
}

impl Compression {
    /// Recognizes the gzip magic `1f 8b` and the bzip2 magic `BZh`; anything
    /// else is taken as plain MRT (an MRT header starts with a timestamp,
    /// which these magics would put in 1986 and 2005 respectively, with
    /// type octets no MRT type has).
    pub fn detect(prefix: &[u8]) -> Self {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip
        } else if prefix.starts_with(b"BZh") {
            Self::Bzip2
        } else {
            Self::None
        }
    }
}

/// The first octets, read for detection, then the rest of the input.
type Peeked<R> = Chain<Cursor<Vec<u8>>, R>;

/// The decompressed stream.
enum Source<R: Read> {
    Plain(BufReader<Peeked<R>>),
    Gzip(BufReader<MultiGzDecoder<Peeked<R>>>),
    Bzip2(BufReader<MultiBzDecoder<Peeked<R>>>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
            Self::Bzip2(r) => r.read(buf),
        }
    }
}

/// Reads until `buf` is full, the input ends or an error other than
/// `Interrupted` occurs; returns how much was read and that error.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|b| !b.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// Peeks at the first octets of `r` and wraps it in the decompressor they
/// call for (or `forced`).
fn open_source<R: Read>(
    mut r: R,
    forced: Option<Compression>,
) -> io::Result<(Source<R>, Compression)> {
    let mut head = [0u8; 3];
    let (n, err) = read_full(&mut r, &mut head);
    if let Some(e) = err {
        if e.kind() != io::ErrorKind::UnexpectedEof {
            return Err(e);
        }
    }
    let head = head.get(..n).unwrap_or(&[]);
    let compression = forced.unwrap_or_else(|| Compression::detect(head));
    let peeked = Cursor::new(head.to_vec()).chain(r);
    let source = match compression {
        Compression::None => Source::Plain(BufReader::with_capacity(BUF_SIZE, peeked)),
        Compression::Gzip => Source::Gzip(BufReader::with_capacity(
            BUF_SIZE,
            MultiGzDecoder::new(peeked),
        )),
        Compression::Bzip2 => Source::Bzip2(BufReader::with_capacity(
            BUF_SIZE,
            MultiBzDecoder::new(peeked),
        )),
    };
    Ok((source, compression))
}

/// The error for a short read of `needed` octets: truncation if the input
/// just ended (or the decompressor says it ended early), else I/O.
fn short_read(needed: u64, got: u64, err: Option<io::Error>) -> MrtErrorKind {
    match err {
        Some(e) if e.kind() != io::ErrorKind::UnexpectedEof => MrtErrorKind::Io(e),
        _ => MrtErrorKind::Truncated { needed, got },
    }
}

enum State<R: Read> {
    /// Compression not yet detected.
    Pending(R, Option<Compression>),
    /// Boxed: decompressor state is large.
    Open(Box<Source<R>>),
    /// Finished, by the end of the input or an error.
    Done,
}

/// Reads MRT records from a possibly compressed stream, one at a time into a
/// reused buffer.
///
/// ```no_run
/// use bgp_proto::mrt::{MrtReader, RecordView};
/// let mut reader = MrtReader::open("updates.20190101.0000.gz")?;
/// while let Some(record) = reader.next_record() {
///     if let RecordView::Bgp4mpMessage(m) = record?.view() {
///         let (_octets, _ctx) = (m.message(), m.context());
///     }
/// }
/// # Ok::<(), bgp_proto::mrt::MrtError>(())
/// ```
pub struct MrtReader<R: Read> {
    state: State<R>,
    compression: Option<Compression>,
    buf: Vec<u8>,
    offset: u64,
    file: Option<PathBuf>,
    max_record_len: u32,
}

impl<R: Read> core::fmt::Debug for MrtReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MrtReader")
            .field("compression", &self.compression)
            .field("offset", &self.offset)
            .field("file", &self.file)
            .field("max_record_len", &self.max_record_len)
            .finish_non_exhaustive()
    }
}

impl MrtReader<File> {
    /// Opens a file; errors name it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MrtError> {
        let path = path.as_ref();
        match File::open(path) {
            Ok(f) => Ok(Self::new(f).with_file_name(path)),
            Err(e) => Err(MrtError {
                offset: 0,
                file: Some(path.to_path_buf()),
                kind: MrtErrorKind::Io(e),
            }),
        }
    }
}

impl<R: Read> MrtReader<R> {
    /// A reader that detects compression from the first octets.
    pub fn new(inner: R) -> Self {
        Self::build(inner, None)
    }

    /// A reader of a stream known to be compressed as `compression`.
    pub fn with_compression(inner: R, compression: Compression) -> Self {
        Self::build(inner, Some(compression))
    }

    fn build(inner: R, forced: Option<Compression>) -> Self {
        Self {
            state: State::Pending(inner, forced),
            compression: None,
            buf: Vec::new(),
            offset: 0,
            file: None,
            max_record_len: MAX_RECORD_LEN,
        }
    }

    /// Names the stream in errors.
    pub fn with_file_name(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Sets the largest Length field accepted.
    pub fn with_max_record_len(mut self, max: u32) -> Self {
        self.max_record_len = max;
        self
    }

    /// The compression in use, once the first record was asked for.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// Offset in the decompressed stream of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The file named in errors.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn error(&self, offset: u64, kind: MrtErrorKind) -> MrtError {
        MrtError {
            offset,
            file: self.file.clone(),
            kind,
        }
    }

    /// The next record, borrowing the reader's buffer until the next call;
    /// `None` at the end of the stream or after an error that ends it.
    #[allow(clippy::should_implement_trait)]
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, MrtError>> {
        let at = self.offset;
        let source = match std::mem::replace(&mut self.state, State::Done) {
            State::Done => return None,
            State::Open(s) => s,
            State::Pending(inner, forced) => match open_source(inner, forced) {
                Ok((s, c)) => {
                    self.compression = Some(c);
                    Box::new(s)
                }
                Err(e) => return Some(Err(self.error(at, MrtErrorKind::Io(e)))),
            },
        };
        self.state = State::Open(source);
        let State::Open(source) = &mut self.state else {
            return None;
        };

        let mut head = [0u8; HEADER_LEN];
        let (n, err) = read_full(&mut **source, &mut head);
        if n < HEADER_LEN {
            self.state = State::Done;
            if n == 0 && err.is_none() {
                return None;
            }
            let kind = short_read(HEADER_LEN as u64, n as u64, err);
            return Some(Err(self.error(at, kind)));
        }
        let header = RecordHeader::from_bytes(&head);
        if header.length > self.max_record_len {
            self.state = State::Done;
            let kind = MrtErrorKind::RecordTooLong {
                length: header.length.into(),
                max: self.max_record_len.into(),
            };
            return Some(Err(self.error(at, kind)));
        }

        // Grows with the data, so a truncated stream allocates only what is
        // there.
        self.buf.clear();
        let needed = u64::from(header.length);
        let res = source.take(needed).read_to_end(&mut self.buf);
        let got = self.buf.len() as u64;
        if got < needed {
            self.state = State::Done;
            let kind = short_read(needed, got, res.err());
            return Some(Err(self.error(at, kind)));
        }
        self.offset = at + header.record_len();
        match Record::new_checked(header, &self.buf) {
            Ok(r) => Some(Ok(r)),
            Err(m) => Some(Err(self.error(at, MrtErrorKind::Malformed(m.0)))),
        }
    }
}

/// Walks a decompressed MRT stream in memory, yielding records that borrow
/// it. Errors are those of [`MrtReader`], at the same offsets.
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    data: &'a [u8],
    offset: usize,
    file: Option<PathBuf>,
    max_record_len: u32,
    done: bool,
}

impl<'a> RecordIter<'a> {
    /// An iterator over the records of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            offset: 0,
            file: None,
            max_record_len: MAX_RECORD_LEN,
            done: false,
        }
    }

    /// Names the stream in errors.
    pub fn with_file_name(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Sets the largest Length field accepted.
    pub fn with_max_record_len(mut self, max: u32) -> Self {
        self.max_record_len = max;
        self
    }

    /// Offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset as u64
    }

    /// The octets not yet walked.
    pub fn remaining(&self) -> &'a [u8] {
        self.data.get(self.offset..).unwrap_or(&[])
    }

    fn fail(&mut self, kind: MrtErrorKind) -> Option<Result<Record<'a>, MrtError>> {
        self.done = true;
        Some(Err(MrtError {
            offset: self.offset as u64,
            file: self.file.clone(),
            kind,
        }))
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.remaining();
        if self.done || rest.is_empty() {
            self.done = true;
            return None;
        }
        let Some(header) = RecordHeader::parse(rest) else {
            let got = rest.len() as u64;
            return self.fail(MrtErrorKind::Truncated {
                needed: HEADER_LEN as u64,
                got,
            });
        };
        if header.length > self.max_record_len {
            return self.fail(MrtErrorKind::RecordTooLong {
                length: header.length.into(),
                max: self.max_record_len.into(),
            });
        }
        let end = usize::try_from(header.length)
            .ok()
            .and_then(|l| l.checked_add(HEADER_LEN));
        let Some(data) = end.and_then(|end| rest.get(HEADER_LEN..end)) else {
            let got = (rest.len() - HEADER_LEN) as u64;
            return self.fail(MrtErrorKind::Truncated {
                needed: header.length.into(),
                got,
            });
        };
        let at = self.offset as u64;
        self.offset += HEADER_LEN + data.len();
        Some(Record::new_checked(header, data).map_err(|m| MrtError {
            offset: at,
            file: self.file.clone(),
            kind: MrtErrorKind::Malformed(m.0),
        }))
    }
}

/// A whole stream, decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decompressed {
    /// The decompressed octets.
    pub data: Vec<u8>,
    /// The compression detected.
    pub compression: Compression,
    /// False when the compressed stream ended early; `data` then holds
    /// everything decoded before that (typically ending in a partial
    /// record, which [`RecordIter`] reports as truncated).
    pub complete: bool,
}

/// Decompresses all of `r` (compression detected as by [`MrtReader`]) into
/// memory, for benchmarks and [`RecordIter`]. The size is not bounded.
pub fn decompress_reader<R: Read>(r: R) -> io::Result<Decompressed> {
    let (mut source, compression) = open_source(r, None)?;
    let mut data = Vec::new();
    let complete = match source.read_to_end(&mut data) {
        Ok(_) => true,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(e),
    };
    Ok(Decompressed {
        data,
        compression,
        complete,
    })
}

/// Decompresses a whole file into memory; see [`decompress_reader`].
pub fn decompress_file(path: impl AsRef<Path>) -> io::Result<Decompressed> {
    decompress_reader(File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::bgp4mp::tests::{peering_octets, KEEPALIVE};
    use crate::mrt::record::tests::record;
    use crate::mrt::record::RecordView;
    use crate::mrt::table_dump_v2::tests::{peer_index_table, rib};
    use crate::mrt::table_dump_v2::Peer;
    use crate::mrt::{mrt_type, table_dump};
    use proptest::prelude::*;
    use std::io::Write;

    /// A small stream with one record of every kind, and its record offsets.
    fn stream() -> (Vec<u8>, Vec<usize>) {
        let peer = Peer {
            peer_type: 0,
            bgp_id: [10, 0, 0, 1].into(),
            ip: "192.0.2.1".parse().unwrap(),
            asn: 64_500,
        };
        let mut msg = peering_octets(true, true);
        msg.extend_from_slice(&KEEPALIVE);
        let mut et_msg = vec![0, 1, 0, 0];
        et_msg.extend_from_slice(&msg);
        let mut state = peering_octets(false, false);
        state.extend_from_slice(&[0, 3, 0, 4]);
        let records = [
            record(
                1,
                13,
                1,
                &peer_index_table([1, 2, 3, 4], b"v", &[(0, peer)]),
            ),
            record(
                2,
                13,
                2,
                &rib(0, 8, &[10], &[(0, 1, None, b"\x40\x01\x01\x00")]),
            ),
            record(3, 13, 10, &rib(1, 0, &[], &[(0, 1, Some(4), b"")])),
            record(4, 13, 6, &[0, 0, 0, 2, 0, 1, 128, 9]),
            record(
                5,
                12,
                1,
                &table_dump::tests::body(&[10, 0, 0, 0], 8, &[1, 1, 1, 1], b""),
            ),
            record(6, 16, 4, &msg),
            record(7, 17, 4, &et_msg),
            record(8, 16, 0, &state),
            record(9, 48, 1, b"ospf"),
        ];
        let mut offsets = Vec::new();
        let mut out = Vec::new();
        for r in records {
            offsets.push(out.len());
            out.extend_from_slice(&r);
        }
        (out, offsets)
    }

    /// Every record, read through `MrtReader` from `input`.
    fn read_all(input: &[u8]) -> (Vec<RecordHeader>, Option<MrtError>) {
        let mut reader = MrtReader::new(input);
        let mut got = Vec::new();
        while let Some(r) = reader.next_record() {
            match r {
                Ok(r) => got.push(r.header()),
                Err(e) => {
                    assert!(reader.next_record().is_none(), "reader goes on after {e}");
                    return (got, Some(e));
                }
            }
        }
        (got, None)
    }

    /// Every record, read through `RecordIter`.
    fn iter_all(input: &[u8]) -> (Vec<RecordHeader>, Option<MrtError>) {
        let mut it = RecordIter::new(input);
        let mut got = Vec::new();
        for r in it.by_ref() {
            match r {
                Ok(r) => got.push(r.header()),
                Err(e) => return (got, Some(e)),
            }
        }
        assert!(it.next().is_none());
        (got, None)
    }

    /// Touches every accessor of a record's view.
    fn exercise(r: &Record<'_>) -> usize {
        let mut n = r.body().len() + r.microseconds().unwrap_or(0) as usize;
        match r.view() {
            RecordView::PeerIndexTable(t) => {
                n += t.peers().count() + t.view_name().len();
                let _ = (t.collector_bgp_id(), t.view_name_str(), t.peer(3));
                n += t.to_peer_table().len();
            }
            RecordView::Rib(rib) => {
                let _ = (rib.sequence(), rib.prefix(), rib.family(), rib.subtype());
                for e in rib.entries() {
                    n += e.attributes().len() + usize::from(e.peer_index());
                    let _ = (e.originated_time(), e.path_id(), e.attribute_context());
                }
            }
            RecordView::RibGeneric(g) => {
                let _ = (g.sequence(), g.family(), g.add_path(), g.afi(), g.safi());
                n += g.data().len();
            }
            RecordView::TableDump(d) => {
                let _ = (d.prefix(), d.peer_ip(), d.peer_as(), d.status(), d.afi());
                let _ = (d.view_number(), d.sequence(), d.originated_time());
                n += d.attributes().len() + usize::from(d.attribute_context().four_octet_as);
            }
            RecordView::Bgp4mpMessage(m) => {
                let _ = (m.peer_as(), m.local_as(), m.interface_index(), m.afi());
                let _ = (m.peer_ip(), m.local_ip(), m.context(), m.is_local());
                n += m.message().len();
            }
            RecordView::Bgp4mpStateChange(s) => {
                let _ = (s.peer_as(), s.local_as(), s.interface_index(), s.afi());
                let _ = (s.peer_ip(), s.local_ip(), s.old_state(), s.new_state());
            }
            RecordView::Unknown(u) => n += u.body.len(),
        }
        n
    }

    #[test]
    fn reads_every_kind() {
        let (s, offsets) = stream();
        let recs: Vec<Record<'_>> = RecordIter::new(&s).map(Result::unwrap).collect();
        assert_eq!(recs.len(), offsets.len());
        let kinds: Vec<&str> = recs
            .iter()
            .map(|r| match r.view() {
                RecordView::PeerIndexTable(_) => "pit",
                RecordView::Rib(_) => "rib",
                RecordView::RibGeneric(_) => "generic",
                RecordView::TableDump(_) => "td",
                RecordView::Bgp4mpMessage(_) => "msg",
                RecordView::Bgp4mpStateChange(_) => "state",
                RecordView::Unknown(_) => "unknown",
            })
            .collect();
        assert_eq!(
            kinds,
            ["pit", "rib", "rib", "generic", "td", "msg", "msg", "state", "unknown"]
        );
        for r in &recs {
            exercise(r);
        }
        assert_eq!(recs[6].microseconds(), Some(65_536));
        assert_eq!(recs[5].microseconds(), None);
        let RecordView::Rib(ap) = recs[2].view() else {
            panic!()
        };
        assert_eq!(ap.prefix().to_string(), "::/0");
        assert_eq!(ap.entries().next().unwrap().path_id(), Some(4));
        let (headers, err) = read_all(&s);
        assert!(err.is_none());
        let want: Vec<_> = recs.iter().map(Record::header).collect();
        assert_eq!(headers, want);
    }

    #[test]
    fn every_cut_point_is_truncation() {
        let (s, offsets) = stream();
        let ends: Vec<usize> = offsets[1..].iter().copied().chain([s.len()]).collect();
        for cut in 0..=s.len() {
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            let start = (cut != 0 && !ends.contains(&cut)).then(|| offsets[whole]);
            for (got, err) in [iter_all(&s[..cut]), read_all(&s[..cut])] {
                assert_eq!(got.len(), whole, "cut {cut}");
                match start {
                    None => assert!(err.is_none(), "cut {cut}: {err:?}"),
                    Some(start) => {
                        let e = err.expect("truncation reported");
                        assert_eq!(e.offset, start as u64, "cut {cut}");
                        let have = (cut - start) as u64;
                        let len = u32::from_be_bytes(s[start + 8..start + 12].try_into().unwrap());
                        let want = if have < 12 {
                            (12, have)
                        } else {
                            (u64::from(len), have - 12)
                        };
                        match e.kind {
                            MrtErrorKind::Truncated { needed, got } => {
                                assert_eq!((needed, got), want, "cut {cut}")
                            }
                            k => panic!("cut {cut}: {k:?}"),
                        }
                    }
                }
            }
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn bzip2(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn compressed_streams_and_their_cuts() {
        let (s, offsets) = stream();
        for (c, z) in [
            (Compression::Gzip, gzip(&s)),
            (Compression::Bzip2, bzip2(&s)),
        ] {
            let mut reader = MrtReader::new(&z[..]);
            assert_eq!(reader.compression(), None);
            let mut n = 0;
            while let Some(r) = reader.next_record() {
                exercise(&r.unwrap());
                n += 1;
            }
            assert_eq!((n, reader.compression()), (offsets.len(), Some(c)));
            let d = decompress_reader(&z[..]).unwrap();
            assert_eq!((&d.data, d.compression, d.complete), (&s, c, true));

            for cut in 0..z.len() {
                let (got, err) = read_all(&z[..cut]);
                if cut == 0 {
                    assert!(got.is_empty() && err.is_none());
                    continue;
                }
                let e = err.unwrap_or_else(|| panic!("{c:?} cut {cut}: no error"));
                assert!(e.is_truncated(), "{c:?} cut {cut}: {e}");
                assert!(got.len() <= offsets.len());
                assert_eq!(
                    e.offset,
                    offsets.get(got.len()).map_or(s.len(), |&o| o) as u64
                );
                if cut >= 3 {
                    let d = decompress_reader(&z[..cut]).unwrap();
                    assert!(!d.complete && s.starts_with(&d.data), "{c:?} cut {cut}");
                }
            }
        }
    }

    #[test]
    fn multi_member_gzip_and_bzip2() {
        let (s, offsets) = stream();
        for z in [
            [gzip(&s[..offsets[3]]), gzip(&s[offsets[3]..])].concat(),
            [bzip2(&s[..offsets[5] + 7]), bzip2(&s[offsets[5] + 7..])].concat(),
        ] {
            let (got, err) = read_all(&z);
            assert!(err.is_none());
            assert_eq!(got.len(), offsets.len());
        }
    }

    #[test]
    fn forced_compression() {
        let (s, offsets) = stream();
        let mut r = MrtReader::with_compression(&s[..], Compression::None);
        let mut n = 0;
        while let Some(rec) = r.next_record() {
            rec.unwrap();
            n += 1;
        }
        assert_eq!(n, offsets.len());
        // Plain data forced through gzip is an I/O error, not truncation.
        let mut r = MrtReader::with_compression(&s[..], Compression::Gzip);
        let e = r.next_record().unwrap().unwrap_err();
        assert!(matches!(e.kind, MrtErrorKind::Io(_)), "{e}");
        assert!(r.next_record().is_none());
    }

    #[test]
    fn malformed_records_are_skipped_not_fatal() {
        let (s, offsets) = stream();
        let mut bad = s[..offsets[1]].to_vec();
        bad.extend_from_slice(&record(1, 16, 4, &[0; 5]));
        bad.extend_from_slice(&s[offsets[1]..]);
        let mut it = RecordIter::new(&bad).with_file_name("x/y.mrt");
        assert!(it.next().unwrap().is_ok());
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.offset, offsets[1] as u64);
        assert!(e.is_recoverable());
        assert_eq!(
            e.to_string(),
            format!(
                "y.mrt: malformed record at offset {}: BGP4MP message: body ends inside \
                 the peer and local fields",
                offsets[1]
            )
        );
        assert_eq!(it.filter(Result::is_ok).count(), offsets.len() - 1);

        let mut reader = MrtReader::new(&bad[..]).with_file_name("y.mrt");
        let mut ok = 0;
        let mut errs = Vec::new();
        while let Some(r) = reader.next_record() {
            match r {
                Ok(_) => ok += 1,
                Err(e) => errs.push(e.offset),
            }
        }
        assert_eq!((ok, errs), (offsets.len(), vec![offsets[1] as u64]));
    }

    #[test]
    fn oversized_length_is_refused_without_allocating() {
        let mut s = record(1, 13, 2, b"");
        s[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = RecordIter::new(&s).next().unwrap().unwrap_err();
        assert!(matches!(
            e.kind,
            MrtErrorKind::RecordTooLong { length: 0xffff_ffff, max } if max == u64::from(MAX_RECORD_LEN)
        ));
        let mut reader = MrtReader::new(&s[..]);
        let e = reader.next_record().unwrap().unwrap_err();
        assert!(matches!(e.kind, MrtErrorKind::RecordTooLong { .. }));
        assert!(reader.buf.capacity() == 0);

        let r = record(1, 99, 1, &[0; 100]);
        let e = RecordIter::new(&r)
            .with_max_record_len(99)
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(
            e.kind,
            MrtErrorKind::RecordTooLong {
                length: 100,
                max: 99
            }
        ));
        let mut reader = MrtReader::new(&r[..]).with_max_record_len(100);
        assert!(reader.next_record().unwrap().is_ok());
    }

    /// A reader that hands out one octet at a time, interrupted in between.
    struct Trickle<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            match (self.data.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(dst)) => {
                    *dst = b;
                    self.data = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// A reader that fails after some octets.
    struct Failing<'a>(&'a [u8]);

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn slow_and_failing_inputs() {
        let (s, offsets) = stream();
        let z = gzip(&s);
        for input in [&s[..], &z[..]] {
            let mut reader = MrtReader::new(Trickle {
                data: input,
                interrupt: false,
            });
            let mut n = 0;
            while let Some(r) = reader.next_record() {
                r.unwrap();
                n += 1;
            }
            assert_eq!(n, offsets.len());
        }
        for cut in [0, 2, 5, offsets[2], offsets[2] + 13] {
            let mut reader = MrtReader::new(Failing(&s[..cut])).with_file_name("f.mrt");
            let mut n = 0;
            let err = loop {
                match reader.next_record() {
                    Some(Ok(_)) => n += 1,
                    Some(Err(e)) => break e,
                    None => panic!("no error"),
                }
            };
            assert!(matches!(err.kind, MrtErrorKind::Io(_)), "{cut}: {err}");
            let at = if cut < offsets[2] { 0 } else { offsets[2] };
            assert_eq!(
                (n, err.offset),
                (offsets.iter().filter(|&&o| o < at).count(), at as u64)
            );
            assert_eq!(err.file.as_deref(), Some(Path::new("f.mrt")));
        }
        let e = decompress_reader(Failing(b"abcdef")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn open_missing_file_names_it() {
        let e = MrtReader::open("/nonexistent/dir/rib.mrt.bz2").unwrap_err();
        assert!(matches!(e.kind, MrtErrorKind::Io(_)));
        assert!(
            e.to_string()
                .starts_with("rib.mrt.bz2: I/O error at offset 0"),
            "{e}"
        );
        assert!(decompress_file("/nonexistent/dir/rib.mrt.bz2").is_err());
    }

    #[test]
    fn detection() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::detect(b"BZh9"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"BZ"), Compression::None);
        assert_eq!(Compression::detect(&[0x1f]), Compression::None);
        assert_eq!(
            Compression::detect(&[0x53, 0x7f, 0x56, 0x60]),
            Compression::None
        );
        assert_eq!(RecordIter::new(&[]).next().map(|r| r.is_ok()), None);
        let (s, offsets) = stream();
        let mut it = RecordIter::new(&s);
        it.next();
        assert_eq!(it.offset(), offsets[1] as u64);
        assert_eq!(it.remaining(), &s[offsets[1]..]);
        let _ = mrt_type::BGP4MP;
    }

    /// Records of the interpreted types with arbitrary bodies.
    fn record_strategy() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::sample::select(vec![12u16, 13, 16, 17, 33, 99]),
            0u16..14,
            prop::collection::vec(any::<u8>(), 0..120),
        )
            .prop_map(|(t, sub, body)| record(0, t, sub, &body))
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
            for r in RecordIter::new(&data).flatten() {
                exercise(&r);
            }
        }

        #[test]
        fn arbitrary_records_never_panic(
            recs in prop::collection::vec(record_strategy(), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let data = recs.concat();
            let cut = cut.index(data.len() + 1);
            let mut seen = 0;
            for r in RecordIter::new(&data[..cut]).flatten() {
                seen += exercise(&r);
            }
            let mut reader = MrtReader::new(&data[..cut]);
            let mut again = 0;
            while let Some(r) = reader.next_record() {
                if let Ok(r) = r {
                    again += exercise(&r);
                }
            }
            prop_assert_eq!(seen, again);
        }
    }
}
