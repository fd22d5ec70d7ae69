//! Seed corpora for the fuzz targets, cut from MRT collector files.
//!
//! [`write_corpora`] reads every `.gz`, `.bz2` and `.mrt` file of a
//! directory and writes one corpus per target under another. Seeds are
//! picked for variety (one shape of record, message or attribute set at most
//! a few times), so the corpora stay small:
//!
//! * `mrt/`: single records as they were in the file, runs of the first
//!   records of each file, and the first 4 KiB of each compressed file;
//! * `message/`: the context octet of the `message` target, then one BGP
//!   message from a BGP4MP record;
//! * `update_attrs/`: path attributes fields of UPDATEs and RIB entries;
//! * `stream/`: the context octet, then runs of consecutive messages of one
//!   context cut into chunks of assorted sizes (the `stream` layout).
//!
//! Files are named by a hash of their content, so running it twice adds
//! nothing. The `seed_corpus` example is the command-line front end.

use crate::context_byte;
use bgp_proto::attr::Attributes;
use bgp_proto::mrt::{MrtReader, Record, RecordView};
use bgp_proto::{Message, SessionContext};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Errors of any kind, with a message.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Records read from each file at most.
const RECORDS_PER_FILE: usize = 200_000;
/// Seeds kept of one shape.
const PER_SHAPE: usize = 3;
/// Seeds of each corpus at most.
const PER_CORPUS: usize = 1500;
/// Chunk sizes the stream seeds cycle through.
const CHUNKS: [u8; 7] = [1, 19, 7, 200, 64, 255, 3];

struct Corpus {
    dir: PathBuf,
    shapes: HashMap<String, usize>,
    written: usize,
}

impl Corpus {
    fn new(root: &Path, name: &str) -> std::io::Result<Self> {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            shapes: HashMap::new(),
            written: 0,
        })
    }

    /// Writes `seed` unless enough seeds of `shape` (or in all) were written.
    fn add(&mut self, shape: String, seed: &[u8]) -> std::io::Result<()> {
        if self.written >= PER_CORPUS {
            return Ok(());
        }
        let n = self.shapes.entry(shape).or_insert(0);
        if *n >= PER_SHAPE {
            return Ok(());
        }
        *n += 1;
        self.written += 1;
        std::fs::write(self.dir.join(format!("{:016x}", fnv1a(seed))), seed)
    }
}

/// FNV-1a, 64 bits: names seed files by content.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The record's octets as they were in the (decompressed) file.
fn record_octets(rec: &Record<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    rec.header().emit(&mut out);
    if let Some(us) = rec.microseconds() {
        out.extend_from_slice(&us.to_be_bytes());
    }
    out.extend_from_slice(rec.body());
    out
}

/// The attribute type codes of a field, in order, as a shape.
fn attribute_shape(buf: &[u8], ctx: &SessionContext) -> String {
    match Attributes::new_checked(buf, ctx) {
        Ok(a) => a
            .raw()
            .map(|r| r.type_code.to_string())
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("error {}", e.reason),
    }
}

struct Seeder {
    mrt: Corpus,
    message: Corpus,
    attrs: Corpus,
    stream: Corpus,
}

impl Seeder {
    fn file(&mut self, path: &Path) -> Result<()> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if name.ends_with(".gz") || name.ends_with(".bz2") {
            let head: Vec<u8> = std::fs::read(path)?.into_iter().take(4096).collect();
            self.mrt.add(format!("head {name}"), &head)?;
        }
        let mut reader = MrtReader::open(path)?;
        let mut first_records = Vec::new();
        // Consecutive messages of one context, for the stream seeds.
        let mut run: Vec<Vec<u8>> = Vec::new();
        let mut run_ctx = None;
        let mut count = 0;
        while let Some(rec) = reader.next_record() {
            let Ok(rec) = rec else { continue };
            count += 1;
            if count > RECORDS_PER_FILE {
                break;
            }
            let octets = record_octets(&rec);
            if count <= 16 {
                first_records.extend_from_slice(&octets);
                if count == 16 {
                    self.mrt.add(format!("first {name}"), &first_records)?;
                }
            }
            let mut shape = format!("{} {}", rec.mrt_type(), rec.subtype());
            match rec.view() {
                RecordView::Bgp4mpMessage(m) => {
                    let ctx = m.context();
                    let cb = context_byte(&ctx);
                    let msg = m.message();
                    let msg_shape = match Message::new_checked(msg, &ctx) {
                        Ok(Message::Update(u)) => format!(
                            "update w{} n{} [{}]",
                            u.withdrawn().count().min(2),
                            u.nlri().count().min(2),
                            attribute_shape(u.attributes().as_bytes(), &ctx)
                        ),
                        Ok(other) => format!("{:?}", other.msg_type()),
                        Err(e) => format!("error {}", e.reason),
                    };
                    shape.push_str(&format!(" {cb} {msg_shape}"));
                    let mut seed = vec![cb];
                    seed.extend_from_slice(msg);
                    self.message.add(format!("{cb} {msg_shape}"), &seed)?;
                    if let Ok(Message::Update(u)) = Message::new_checked(msg, &ctx) {
                        let field = u.attributes().as_bytes();
                        self.attrs
                            .add(format!("update {}", attribute_shape(field, &ctx)), field)?;
                    }
                    if run_ctx != Some(cb) {
                        self.flush_run(run_ctx, &mut run)?;
                        run_ctx = Some(cb);
                    }
                    run.push(msg.to_vec());
                    if run.len() == 8 {
                        self.flush_run(run_ctx, &mut run)?;
                    }
                }
                RecordView::Rib(r) => {
                    shape.push_str(&format!(" {}", r.entry_count().min(3)));
                    for e in r.entries() {
                        let ctx = e.attribute_context();
                        let field = e.attributes();
                        self.attrs
                            .add(format!("rib {}", attribute_shape(field, &ctx)), field)?;
                    }
                }
                RecordView::TableDump(t) => {
                    let ctx = t.attribute_context();
                    let field = t.attributes();
                    self.attrs
                        .add(format!("td {}", attribute_shape(field, &ctx)), field)?;
                }
                _ => {}
            }
            if octets.len() <= 64 * 1024 {
                self.mrt.add(shape, &octets)?;
            }
        }
        self.flush_run(run_ctx, &mut run)?;
        if count < 16 && !first_records.is_empty() {
            self.mrt.add(format!("first {name}"), &first_records)?;
        }
        eprintln!("{name}: {count} records read");
        Ok(())
    }

    /// Writes a stream seed from `run` (then empties it).
    fn flush_run(&mut self, cb: Option<u8>, run: &mut Vec<Vec<u8>>) -> std::io::Result<()> {
        let Some(cb) = cb else {
            run.clear();
            return Ok(());
        };
        let stream: Vec<u8> = run.concat();
        run.clear();
        if stream.is_empty() {
            return Ok(());
        }
        let mut seed = vec![cb];
        let mut rest = &stream[..];
        for &size in CHUNKS.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(usize::from(size).min(rest.len()));
            seed.push(chunk.len() as u8);
            seed.extend_from_slice(chunk);
            rest = tail;
        }
        // Shape: context and rough size, so runs of all lengths are kept.
        let shape = format!("{cb} {}", stream.len() / 512);
        self.stream.add(shape, &seed)
    }
}

/// Reads the MRT files of `data_dir` and writes the corpora under
/// `corpus_dir` (`mrt/`, `message/`, `update_attrs/`, `stream/`). Returns
/// each corpus directory with the number of seeds written to it.
pub fn write_corpora(data_dir: &Path, corpus_dir: &Path) -> Result<Vec<(PathBuf, usize)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir)
        .map_err(|e| format!("{}: {e}", data_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            p.is_file() && (n.ends_with(".gz") || n.ends_with(".bz2") || n.ends_with(".mrt"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no MRT files in {}", data_dir.display()).into());
    }
    let mut seeder = Seeder {
        mrt: Corpus::new(corpus_dir, "mrt")?,
        message: Corpus::new(corpus_dir, "message")?,
        attrs: Corpus::new(corpus_dir, "update_attrs")?,
        stream: Corpus::new(corpus_dir, "stream")?,
    };
    for f in &files {
        seeder.file(f)?;
    }
    Ok(
        [&seeder.mrt, &seeder.message, &seeder.attrs, &seeder.stream]
            .into_iter()
            .map(|c| (c.dir.clone(), c.written))
            .collect(),
    )
}
