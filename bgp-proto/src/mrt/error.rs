//! Errors while reading an MRT stream.
//!
//! Every [`MrtError`] names the record that failed by the offset of its
//! common header in the decompressed stream, and the file when it is known.

use core::fmt;
use std::path::PathBuf;

/// A record body that does not match its type and subtype. The reason names
/// the record type and the field at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

/// What went wrong with a record.
#[derive(Debug)]
pub enum MrtErrorKind {
    /// The stream ends inside a record: the common header or the body is
    /// incomplete (or the compressed stream ends early). Every record before
    /// it was whole. `needed` is the common header size when the header is
    /// cut, else the Length field of the header; `got` is how many of those
    /// octets were present.
    Truncated {
        /// Octets the header or body should have.
        needed: u64,
        /// Octets there were.
        got: u64,
    },
    /// The Length field exceeds the reader's cap (see
    /// [`MAX_RECORD_LEN`](super::MAX_RECORD_LEN)); nothing was allocated.
    RecordTooLong {
        /// The Length field.
        length: u64,
        /// The cap in force.
        max: u64,
    },
    /// The body does not match the record's type and subtype. The framing is
    /// intact, so reading can go on with the next record.
    Malformed(&'static str),
    /// Reading or decompressing failed for a reason other than an early end.
    Io(std::io::Error),
}

/// An error at a known position of an MRT stream.
#[derive(Debug)]
pub struct MrtError {
    /// Offset, in the decompressed stream, of the common header of the
    /// record that failed.
    pub offset: u64,
    /// The file being read, when known.
    pub file: Option<PathBuf>,
    /// What went wrong.
    pub kind: MrtErrorKind,
}

impl MrtError {
    /// An error at `offset` with no file name.
    pub fn new(offset: u64, kind: MrtErrorKind) -> Self {
        Self {
            offset,
            file: None,
            kind,
        }
    }

    /// Whether the stream ended inside a record.
    pub fn is_truncated(&self) -> bool {
        matches!(self.kind, MrtErrorKind::Truncated { .. })
    }

    /// Whether only this record is bad and reading may continue after it.
    pub fn is_recoverable(&self) -> bool {
        matches!(self.kind, MrtErrorKind::Malformed(_))
    }
}

impl fmt::Display for MrtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            let name = file.file_name().unwrap_or(file.as_os_str());
            write!(f, "{}: ", name.to_string_lossy())?;
        }
        let offset = self.offset;
        match &self.kind {
            MrtErrorKind::Truncated { needed, got } => write!(
                f,
                "truncated record at offset {offset}: needed {needed} octets, got {got}"
            ),
            MrtErrorKind::RecordTooLong { length, max } => write!(
                f,
                "record at offset {offset} too long: length {length} exceeds the limit of {max}"
            ),
            MrtErrorKind::Malformed(reason) => {
                write!(f, "malformed record at offset {offset}: {reason}")
            }
            MrtErrorKind::Io(e) => write!(f, "I/O error at offset {offset}: {e}"),
        }
    }
}

impl std::error::Error for MrtError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            MrtErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_offset_and_sizes() {
        let mut e = MrtError::new(
            15_273_283,
            MrtErrorKind::Truncated {
                needed: 1985,
                got: 1255,
            },
        );
        assert_eq!(
            e.to_string(),
            "truncated record at offset 15273283: needed 1985 octets, got 1255"
        );
        e.file = Some(PathBuf::from("/data/rib.20140523.0600_firstMB.bz2"));
        assert_eq!(
            e.to_string(),
            "rib.20140523.0600_firstMB.bz2: truncated record at offset 15273283: \
             needed 1985 octets, got 1255"
        );
        assert!(e.is_truncated() && !e.is_recoverable());
        let m = MrtError::new(7, MrtErrorKind::Malformed("BGP4MP: bad AFI"));
        assert_eq!(
            m.to_string(),
            "malformed record at offset 7: BGP4MP: bad AFI"
        );
        assert!(m.is_recoverable());
        let t = MrtError::new(0, MrtErrorKind::RecordTooLong { length: 9, max: 8 });
        assert!(t.to_string().contains("length 9 exceeds the limit of 8"));
        let io = MrtError::new(3, MrtErrorKind::Io(std::io::Error::other("boom")));
        assert!(std::error::Error::source(&io).is_some());
        assert_eq!(io.to_string(), "I/O error at offset 3: boom");
    }
}
