//! Optional MRT recording of every received message (RFC 6396 `BGP4MP_ET`),
//! for post-mortems with `bgp-probe decode` or `bgpdump`.
//!
//! Sessions hand records to a [`Recorder`] without ever waiting: a bounded
//! queue feeds one writer thread, and when the disk cannot keep up records
//! are dropped and counted rather than stalling a BGP session (a hold timer
//! expiring because of a slow disk would be worse than a gap in a trace).
//! Files rotate every `rotate` interval and only the newest `max_files` are
//! kept.

use bgp_proto::mrt::{Bgp4mpEndpoints, MrtWriter, Timestamp};
use bytes::Bytes;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Queue depth between sessions and the writer thread.
const QUEUE: usize = 65_536;
/// File name prefix; the rest is the UTC start time.
const PREFIX: &str = "bgpd.";
const SUFFIX: &str = ".mrt";

/// One record to write.
#[derive(Debug, Clone)]
pub enum Event {
    /// A received BGP message (the whole message, marker included).
    Message {
        /// When it was read.
        at: SystemTime,
        /// Peer and local AS and addresses.
        endpoints: Bgp4mpEndpoints,
        /// The message.
        message: Bytes,
    },
    /// An FSM state change (RFC 6396 state numbers: 1 Idle .. 6 Established).
    StateChange {
        /// When it happened.
        at: SystemTime,
        /// Peer and local AS and addresses.
        endpoints: Bgp4mpEndpoints,
        /// Previous state.
        old: u16,
        /// New state.
        new: u16,
    },
    /// Flush buffered records to disk (tests, shutdown).
    Flush(SyncSender<()>),
}

/// Where and how to record.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directory for the files (created if missing).
    pub dir: PathBuf,
    /// Start a new file this often.
    pub rotate: Duration,
    /// Keep at most this many files (oldest deleted first).
    pub max_files: usize,
}

/// Handle to the recorder; cheap to clone into every session.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: SyncSender<Event>,
    dropped: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the writer thread. Fails if the directory cannot be created.
    pub fn start(settings: Settings) -> io::Result<Self> {
        fs::create_dir_all(&settings.dir)?;
        let (tx, rx) = sync_channel(QUEUE);
        let written = Arc::new(AtomicU64::new(0));
        let w = written.clone();
        std::thread::Builder::new()
            .name("mrt-recorder".into())
            .spawn(move || writer_loop(settings, rx, w))?;
        Ok(Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            written,
        })
    }

    /// Queues a record; never blocks. Returns false if it had to be dropped.
    pub fn record(&self, event: Event) -> bool {
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Waits until everything queued so far is written and flushed.
    pub fn flush(&self) {
        let (tx, rx) = sync_channel(1);
        if self.tx.send(Event::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }
    }

    /// Records dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records written.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

fn timestamp(at: SystemTime) -> Timestamp {
    Timestamp::from_system_time(at).unwrap_or(Timestamp {
        seconds: 0,
        microseconds: 0,
    })
}

/// `YYYYMMDDTHHMMSS` in UTC (civil-from-days, proleptic Gregorian).
fn utc_stamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

struct Output {
    writer: MrtWriter<BufWriter<File>>,
    opened: SystemTime,
}

fn open(dir: &Path, max_files: usize, at: SystemTime) -> io::Result<Output> {
    let path = dir.join(format!("{PREFIX}{}{SUFFIX}", utc_stamp(at)));
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    prune(dir, max_files)?;
    Ok(Output {
        writer: MrtWriter::new(BufWriter::with_capacity(256 * 1024, file)),
        opened: at,
    })
}

/// Deletes the oldest recordings beyond `max_files` (names sort by time).
fn prune(dir: &Path, max_files: usize) -> io::Result<()> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(max_files.max(1));
    for old in &files[..excess] {
        fs::remove_file(old)?;
    }
    Ok(())
}

fn writer_loop(settings: Settings, rx: Receiver<Event>, written: Arc<AtomicU64>) {
    let mut out: Option<Output> = None;
    while let Ok(event) = rx.recv() {
        let at = match &event {
            Event::Message { at, .. } | Event::StateChange { at, .. } => *at,
            Event::Flush(done) => {
                if let Some(o) = out.as_mut() {
                    if let Err(e) = o.writer.flush() {
                        tracing::warn!(error = %e, "MRT recorder: flush failed");
                    }
                }
                let _ = done.send(());
                continue;
            }
        };
        let stale = out
            .as_ref()
            .is_none_or(|o| at.duration_since(o.opened).unwrap_or_default() >= settings.rotate);
        if stale {
            if let Some(mut o) = out.take() {
                let _ = o.writer.flush();
            }
            match open(&settings.dir, settings.max_files, at) {
                Ok(o) => out = Some(o),
                Err(e) => {
                    tracing::warn!(dir = %settings.dir.display(), error = %e, "MRT recorder: cannot open file");
                    continue;
                }
            }
        }
        let Some(o) = out.as_mut() else { continue };
        let result = match event {
            Event::Message {
                at,
                endpoints,
                message,
            } => o.writer.write_message(timestamp(at), &endpoints, &message),
            Event::StateChange {
                at,
                endpoints,
                old,
                new,
            } => o
                .writer
                .write_state_change(timestamp(at), &endpoints, old, new),
            Event::Flush(_) => Ok(()),
        };
        match result {
            Ok(()) => {
                written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "MRT recorder: write failed"),
        }
    }
    if let Some(mut o) = out {
        let _ = o.writer.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::mrt::{RecordIter, RecordView};
    use std::net::{IpAddr, Ipv4Addr};

    fn endpoints() -> Bgp4mpEndpoints {
        Bgp4mpEndpoints {
            peer_as: 64512,
            local_as: 64513,
            interface_index: 0,
            peer_ip: IpAddr::V4(Ipv4Addr::new(172, 29, 51, 11)),
            local_ip: IpAddr::V4(Ipv4Addr::new(172, 29, 51, 2)),
        }
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bgpd-rec-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn stamps_are_utc_civil_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_445_565_678);
        assert_eq!(utc_stamp(t), "20151023T020118");
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(utc_stamp(leap), "20000229T000000");
    }

    #[test]
    fn records_read_back_and_rotate() {
        let dir = tmpdir("rot");
        let rec = Recorder::start(Settings {
            dir: dir.clone(),
            rotate: Duration::from_secs(60),
            max_files: 2,
        })
        .unwrap();
        let mut keepalive = Vec::new();
        bgp_proto::keepalive::emit_keepalive(&mut keepalive);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for i in 0..4u64 {
            let at = t0 + Duration::from_secs(100 * i);
            assert!(rec.record(Event::StateChange {
                at,
                endpoints: endpoints(),
                old: 5,
                new: 6,
            }));
            assert!(rec.record(Event::Message {
                at: at + Duration::from_micros(250),
                endpoints: endpoints(),
                message: Bytes::from(keepalive.clone()),
            }));
        }
        rec.flush();
        assert_eq!(rec.written(), 8);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        // Four 100 s apart with 60 s rotation: four files, the oldest two pruned.
        assert_eq!(files.len(), 2);
        let data = fs::read(&files[1]).unwrap();
        let records: Vec<_> = RecordIter::new(&data).map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 2);
        match records[1].view() {
            RecordView::Bgp4mpMessage(m) => {
                assert_eq!(m.message(), &keepalive[..]);
                assert_eq!(m.peer_as(), 64512);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(records[1].microseconds(), Some(250));
        let _ = fs::remove_dir_all(&dir);
    }
}
