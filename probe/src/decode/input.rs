//! Opening `decode`'s inputs: a file or standard input, plain MRT, gzip or
//! bzip2 (detected from the first octets, as `bgp-proto`'s reader does).
//!
//! Compressed input is decompressed on other threads while the caller
//! formats the records already decoded: gzip on one thread, bzip2 block by
//! block on every core ([`super::bz2`]). The caller reads the plain MRT
//! stream through [`Input`], which hands out the decompressed chunks in
//! order. A compressed stream that ends early (a truncated file) ends the
//! stream with an error of kind `UnexpectedEof` after all the data that
//! could be recovered, which the MRT reader reports as a truncated record.

use super::bz2;
use bgp_proto::mrt::Compression;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Octets per chunk handed from a decompressing thread to the reader.
pub const CHUNK: usize = 256 * 1024;
/// Chunks a decompressing thread may run ahead of the reader.
const AHEAD: usize = 8;

/// A chunk of decompressed data, or the error that ended the stream.
pub type Chunk = io::Result<Vec<u8>>;

/// The decompressed stream of one input.
pub struct Input {
    inner: Inner,
}

enum Inner {
    Plain(Box<dyn Read + Send>),
    Threaded(Chunks),
}

impl Input {
    /// Opens `path` (`-` is standard input) and starts decompressing it.
    pub fn open(path: &Path) -> io::Result<Self> {
        let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path)?)
        };
        Self::from_reader(raw)
    }

    /// Detects the compression of `raw` and starts decompressing it.
    pub fn from_reader(mut raw: Box<dyn Read + Send>) -> io::Result<Self> {
        let mut head = [0u8; 3];
        let n = read_full(&mut raw, &mut head)?;
        let peeked: Box<dyn Read + Send> = Box::new(Cursor::new(head[..n].to_vec()).chain(raw));
        let inner = match Compression::detect(&head[..n]) {
            Compression::None => Inner::Plain(peeked),
            Compression::Gzip => Inner::Threaded(Chunks::spawn(move |tx| {
                let dec = MultiGzDecoder::new(BufReader::with_capacity(CHUNK, peeked));
                pump(dec, &tx);
            })),
            Compression::Bzip2 => {
                Inner::Threaded(Chunks::spawn(move |tx| bz2::decode(peeked, &tx)))
            }
        };
        Ok(Self { inner })
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Threaded(c) => c.read(buf),
        }
    }
}

/// Reads until `buf` is full or the input ends; `Interrupted` is retried.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Sends `r`'s octets in chunks until it ends; an error ends the stream
/// after the octets read before it.
pub fn pump(mut r: impl Read, tx: &SyncSender<Chunk>) {
    loop {
        let mut buf = vec![0u8; CHUNK];
        let mut n = 0;
        let mut failure = None;
        while n < buf.len() {
            match r.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        buf.truncate(n);
        let end = n < CHUNK;
        if n > 0 && tx.send(Ok(buf)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = tx.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

/// Chunks arriving from a decompressing thread, read in order.
struct Chunks {
    rx: Option<Receiver<Chunk>>,
    cur: Vec<u8>,
    pos: usize,
    thread: Option<JoinHandle<()>>,
}

impl Chunks {
    fn spawn(work: impl FnOnce(SyncSender<Chunk>) + Send + 'static) -> Self {
        let (tx, rx) = mpsc::sync_channel(AHEAD);
        let thread = std::thread::Builder::new()
            .name("decompress".into())
            .spawn(move || work(tx))
            .ok();
        Self {
            rx: Some(rx),
            cur: Vec::new(),
            pos: 0,
            thread,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            let Some(rx) = &self.rx else {
                return Ok(0);
            };
            match rx.recv() {
                Ok(Ok(chunk)) => {
                    self.cur = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                Err(_) => {
                    self.rx = None;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        // Dropping the receiver makes the thread's next send fail, so it
        // stops even when the reader gave up early.
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all(mut i: Input) -> (Vec<u8>, Option<io::ErrorKind>) {
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match i.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e.kind())),
            }
        }
    }

    #[test]
    fn plain_gzip_and_bzip2_read_the_same() {
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&data).unwrap();
        let bz = bz.finish().unwrap();
        for input in [data.clone(), gz.clone(), bz.clone()] {
            let (got, err) = all(Input::from_reader(Box::new(Cursor::new(input))).unwrap());
            assert_eq!(err, None);
            assert!(got == data);
        }
        // Cut short: what could be decoded, then UnexpectedEof.
        for cut in [gz[..gz.len() / 2].to_vec(), bz[..bz.len() - 20].to_vec()] {
            let (got, err) = all(Input::from_reader(Box::new(Cursor::new(cut))).unwrap());
            assert_eq!(err, Some(io::ErrorKind::UnexpectedEof));
            assert!(data.starts_with(&got));
        }
        let (got, err) = all(Input::from_reader(Box::new(Cursor::new(Vec::new()))).unwrap());
        assert!(got.is_empty() && err.is_none());
    }

    #[test]
    fn dropping_early_stops_the_thread() {
        let data = vec![0u8; 8 * CHUNK];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let mut i = Input::from_reader(Box::new(Cursor::new(gz.finish().unwrap()))).unwrap();
        let mut b = [0u8; 10];
        i.read_exact(&mut b).unwrap();
        drop(i);
    }
}
