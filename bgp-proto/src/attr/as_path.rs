//! AS_PATH and AS4_PATH (RFC 4271 s4.3, RFC 5065, RFC 6793).
//!
//! [`AsPath`] is a view over the attribute value whose segments and AS
//! numbers iterate lazily. AS numbers are 2 or 4 octets depending on the
//! session ([`crate::SessionContext::asn_len`]); AS4_PATH is always 4.
//! [`AsPathRepr`] is the owned form, and [`AsPathRepr::reconcile`] merges
//! AS_PATH with AS4_PATH as a NEW speaker must (RFC 6793 s4.2.3).

use core::fmt;

/// AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793).
pub const AS_TRANS: u32 = 23456;

/// Path segment types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u8)]
pub enum SegmentType {
    /// AS_SET: unordered set of ASes a route in the UPDATE has traversed.
    Set = 1,
    /// AS_SEQUENCE: ordered set of ASes.
    Sequence = 2,
    /// AS_CONFED_SEQUENCE (RFC 5065).
    ConfedSequence = 3,
    /// AS_CONFED_SET (RFC 5065).
    ConfedSet = 4,
}

impl SegmentType {
    /// The type for a wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Set,
            2 => Self::Sequence,
            3 => Self::ConfedSequence,
            4 => Self::ConfedSet,
            _ => return None,
        })
    }

    /// Whether the segment is one of the confederation types.
    pub fn is_confed(self) -> bool {
        matches!(self, Self::ConfedSequence | Self::ConfedSet)
    }
}

/// Why an AS_PATH value is malformed (RFC 7606 s7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsPathError {
    /// Unknown segment type.
    SegmentType,
    /// A segment with no AS numbers.
    EmptySegment,
    /// A segment runs past the end of the attribute.
    Overrun,
}

/// A view over an AS_PATH or AS4_PATH value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsPath<'a> {
    buf: &'a [u8],
    asn_len: u8,
}

impl<'a> AsPath<'a> {
    /// Validates `buf` as a sequence of segments with `asn_len`-octet AS numbers.
    pub fn new_checked(buf: &'a [u8], asn_len: usize) -> Result<Self, AsPathError> {
        walk_segments(buf, asn_len, |_| ())?;
        Ok(Self::new_unchecked(buf, asn_len))
    }

    /// A view without validation; iteration stops at the first malformed segment.
    pub fn new_unchecked(buf: &'a [u8], asn_len: usize) -> Self {
        Self {
            buf,
            asn_len: if asn_len == 2 { 2 } else { 4 },
        }
    }

    /// The attribute value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Octets per AS number (2 or 4).
    pub fn asn_len(&self) -> usize {
        usize::from(self.asn_len)
    }

    /// The segments, in order.
    pub fn segments(&self) -> Segments<'a> {
        Segments {
            buf: self.buf,
            asn_len: self.asn_len,
        }
    }

    /// Every AS number, segment boundaries ignored.
    pub fn asns(&self) -> impl Iterator<Item = u32> + 'a {
        self.segments().flat_map(|s| s.asns())
    }

    /// Path length for route selection (RFC 4271 s9.1.2.2 a, RFC 5065 s5.3):
    /// an AS_SET counts 1, confederation segments 0.
    pub fn route_len(&self) -> usize {
        self.segments()
            .map(|s| match s.seg_type {
                SegmentType::Sequence => s.len(),
                SegmentType::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// The AS that originated the route: the last AS of a final AS_SEQUENCE.
    pub fn origin_as(&self) -> Option<u32> {
        let last = self.segments().last()?;
        (last.seg_type == SegmentType::Sequence)
            .then(|| last.asns().last())
            .flatten()
    }

    /// The neighbouring AS: the first AS of a leading AS_SEQUENCE.
    pub fn first_as(&self) -> Option<u32> {
        let first = self.segments().next()?;
        (first.seg_type == SegmentType::Sequence)
            .then(|| first.asns().next())
            .flatten()
    }
}

/// Validates `buf` as [`AsPath::new_checked`] does (same errors, same
/// order) and, in the same pass, tells whether any AS number is 0 (RFC 7607
/// s2). A malformation anywhere wins over an AS 0 before it. `asn_len` is 2
/// or 4 (any other value reads as 4, as [`AsPath::new_unchecked`] does).
#[inline]
pub(crate) fn check_with_as0(buf: &[u8], asn_len: usize) -> Result<bool, AsPathError> {
    let mut zero = false;
    if asn_len == 2 {
        walk_segments(buf, 2, |asns| {
            zero |= asns.chunks_exact(2).any(|c| c == [0, 0]);
        })?;
    } else {
        walk_segments(buf, 4, |asns| {
            zero |= asns.chunks_exact(4).any(|c| c == [0, 0, 0, 0]);
        })?;
    }
    Ok(zero)
}

/// The segment walk of validation: `seen` gets each segment's AS number
/// octets (its count times `asn_len`).
#[inline(always)]
fn walk_segments(
    buf: &[u8],
    asn_len: usize,
    mut seen: impl FnMut(&[u8]),
) -> Result<(), AsPathError> {
    let mut rest = buf;
    while let [seg_type, count, tail @ ..] = rest {
        SegmentType::from_u8(*seg_type).ok_or(AsPathError::SegmentType)?;
        if *count == 0 {
            return Err(AsPathError::EmptySegment);
        }
        let n = usize::from(*count) * asn_len;
        let (asns, after) = tail.split_at_checked(n).ok_or(AsPathError::Overrun)?;
        seen(asns);
        rest = after;
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err(AsPathError::Overrun)
    }
}

impl fmt::Display for AsPath<'_> {
    /// Sequences space-separated, `{a,b}` for a set, `(a b)` for a
    /// confederation sequence, `[a,b]` for a confederation set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            fmt::Display::fmt(&seg, f)?;
        }
        Ok(())
    }
}

/// Iterator over the segments of an [`AsPath`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    buf: &'a [u8],
    asn_len: u8,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    #[inline]
    fn next(&mut self) -> Option<Segment<'a>> {
        let [seg_type, count, tail @ ..] = self.buf else {
            return None;
        };
        let n = usize::from(*count) * usize::from(self.asn_len);
        let (Some(seg_type), Some(asns), Some(rest), true) = (
            SegmentType::from_u8(*seg_type),
            tail.get(..n),
            tail.get(n..),
            *count > 0,
        ) else {
            self.buf = &[];
            return None;
        };
        self.buf = rest;
        Some(Segment {
            seg_type,
            asns,
            asn_len: self.asn_len,
        })
    }
}

/// One path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Segment type.
    pub seg_type: SegmentType,
    asns: &'a [u8],
    asn_len: u8,
}

impl<'a> Segment<'a> {
    /// Number of AS numbers.
    pub fn len(&self) -> usize {
        self.asns.len() / usize::from(self.asn_len)
    }

    /// Whether the segment holds no AS (never true once validated).
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// The AS numbers in order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + 'a {
        let four = self.asn_len == 4;
        self.asns
            .chunks_exact(usize::from(self.asn_len))
            .map(move |c| match (four, c) {
                (true, &[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
                (false, &[a, b]) => u32::from(u16::from_be_bytes([a, b])),
                _ => 0,
            })
    }
}

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_segment(f, self.seg_type, self.asns())
    }
}

fn write_segment(
    f: &mut fmt::Formatter<'_>,
    seg_type: SegmentType,
    asns: impl Iterator<Item = u32>,
) -> fmt::Result {
    let (open, sep, close) = match seg_type {
        SegmentType::Sequence => ("", " ", ""),
        SegmentType::Set => ("{", ",", "}"),
        SegmentType::ConfedSequence => ("(", " ", ")"),
        SegmentType::ConfedSet => ("[", ",", "]"),
    };
    f.write_str(open)?;
    for (i, asn) in asns.enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{asn}")?;
    }
    f.write_str(close)
}

/// An owned path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SegmentRepr {
    /// Segment type.
    pub seg_type: SegmentType,
    /// AS numbers (1 to 255 of them on the wire).
    pub asns: Vec<u32>,
}

/// An owned AS_PATH.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AsPathRepr {
    /// Segments in order.
    pub segments: Vec<SegmentRepr>,
}

impl AsPathRepr {
    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: impl IntoIterator<Item = u32>) -> Self {
        let asns: Vec<u32> = asns.into_iter().collect();
        if asns.is_empty() {
            return Self::default();
        }
        Self {
            segments: vec![SegmentRepr {
                seg_type: SegmentType::Sequence,
                asns,
            }],
        }
    }

    /// The owned form of a view.
    pub fn parse(path: &AsPath<'_>) -> Self {
        Self {
            segments: path
                .segments()
                .map(|s| SegmentRepr {
                    seg_type: s.seg_type,
                    asns: s.asns().collect(),
                })
                .collect(),
        }
    }

    /// Appends the value with `asn_len`-octet AS numbers (2-octet form writes
    /// AS_TRANS for numbers above 65535). Segments longer than 255 ASes are
    /// split into several of the same type.
    pub fn emit(&self, asn_len: usize, out: &mut Vec<u8>) {
        for seg in &self.segments {
            for chunk in seg.asns.chunks(255) {
                out.push(seg.seg_type as u8);
                out.push(chunk.len() as u8);
                for &asn in chunk {
                    if asn_len == 2 {
                        let short = u16::try_from(asn).unwrap_or(AS_TRANS as u16);
                        out.extend_from_slice(&short.to_be_bytes());
                    } else {
                        out.extend_from_slice(&asn.to_be_bytes());
                    }
                }
            }
        }
    }

    /// Number of ASes as RFC 6793 s4.2.3 counts them for the merge: AS_SET
    /// counts 1, confederation segments 0.
    fn merge_len(segments: &[SegmentRepr]) -> usize {
        segments
            .iter()
            .map(|s| match s.seg_type {
                SegmentType::Sequence => s.asns.len(),
                SegmentType::Set => 1,
                _ => 0,
            })
            .sum()
    }

    /// Rebuilds the 4-octet path from a 2-octet AS_PATH and an AS4_PATH
    /// (RFC 6793 s4.2.3). Confederation segments in AS4_PATH are dropped
    /// (s6); if AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored.
    /// Otherwise the leading ASes of AS_PATH that AS4_PATH lacks are kept and
    /// AS4_PATH follows them.
    pub fn reconcile(as_path: &AsPath<'_>, as4_path: &AsPath<'_>) -> Self {
        let two = Self::parse(as_path);
        let four: Vec<SegmentRepr> = Self::parse(as4_path)
            .segments
            .into_iter()
            .filter(|s| !s.seg_type.is_confed())
            .collect();
        let (n2, n4) = (Self::merge_len(&two.segments), Self::merge_len(&four));
        if n2 < n4 {
            return two;
        }
        let mut keep = n2 - n4;
        let mut segments = Vec::with_capacity(two.segments.len() + four.len());
        for seg in two.segments {
            if keep == 0 && !seg.seg_type.is_confed() {
                break;
            }
            match seg.seg_type {
                SegmentType::Sequence if seg.asns.len() > keep => {
                    segments.push(SegmentRepr {
                        seg_type: seg.seg_type,
                        asns: seg.asns[..keep].to_vec(),
                    });
                    keep = 0;
                }
                SegmentType::Sequence => {
                    keep -= seg.asns.len();
                    segments.push(seg);
                }
                SegmentType::Set => {
                    keep -= 1;
                    segments.push(seg);
                }
                _ => segments.push(seg),
            }
        }
        // A kept AS_SEQUENCE and a leading AS4 one are one segment.
        let mut four = four.into_iter().peekable();
        if let (Some(last), Some(first)) = (segments.last_mut(), four.peek_mut()) {
            if last.seg_type == SegmentType::Sequence && first.seg_type == SegmentType::Sequence {
                last.asns.append(&mut first.asns);
            }
        }
        segments.extend(four);
        segments.retain(|s| !s.asns.is_empty());
        Self { segments }
    }
}

impl fmt::Display for AsPathRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write_segment(f, seg.seg_type, seg.asns.iter().copied())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four(segs: &[(u8, &[u32])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (t, asns) in segs {
            v.push(*t);
            v.push(asns.len() as u8);
            for a in *asns {
                v.extend_from_slice(&a.to_be_bytes());
            }
        }
        v
    }

    fn two(segs: &[(u8, &[u16])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (t, asns) in segs {
            v.push(*t);
            v.push(asns.len() as u8);
            for a in *asns {
                v.extend_from_slice(&a.to_be_bytes());
            }
        }
        v
    }

    #[test]
    fn iterates_and_prints() {
        let buf = four(&[
            (2, &[64512, 4200000000]),
            (1, &[3, 4]),
            (3, &[7, 8]),
            (4, &[9]),
        ]);
        let p = AsPath::new_checked(&buf, 4).unwrap();
        assert_eq!(p.to_string(), "64512 4200000000 {3,4} (7 8) [9]");
        assert_eq!(p.route_len(), 3);
        assert_eq!(p.first_as(), Some(64512));
        assert_eq!(p.origin_as(), None);
        let b2 = two(&[(2, &[1, 2, 3])]);
        let p2 = AsPath::new_checked(&b2, 2).unwrap();
        assert_eq!(p2.asns().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(p2.origin_as(), Some(3));
    }

    #[test]
    fn malformations() {
        assert_eq!(
            AsPath::new_checked(&[5, 1, 0, 1], 2),
            Err(AsPathError::SegmentType)
        );
        assert_eq!(
            AsPath::new_checked(&[2, 0], 2),
            Err(AsPathError::EmptySegment)
        );
        assert_eq!(
            AsPath::new_checked(&[2, 2, 0, 1], 2),
            Err(AsPathError::Overrun)
        );
        assert_eq!(AsPath::new_checked(&[2], 2), Err(AsPathError::Overrun));
        assert!(AsPath::new_checked(&[], 4).is_ok());
        // Unchecked views stop instead of failing.
        assert_eq!(
            AsPath::new_unchecked(&[2, 2, 0, 1], 2).segments().count(),
            0
        );
    }

    #[test]
    fn reconcile_per_rfc6793() {
        // AS_PATH 2-octet: 100 23456 23456 300; AS4_PATH: 4200000001 4200000002 300
        let b2 = two(&[(2, &[100, 23456, 23456, 300])]);
        let b4 = four(&[(2, &[4200000001, 4200000002, 300])]);
        let m = AsPathRepr::reconcile(
            &AsPath::new_checked(&b2, 2).unwrap(),
            &AsPath::new_checked(&b4, 4).unwrap(),
        );
        assert_eq!(m.to_string(), "100 4200000001 4200000002 300");
        // AS4_PATH longer than AS_PATH: ignored.
        let b4 = four(&[(2, &[1, 2, 3, 4, 5])]);
        let m = AsPathRepr::reconcile(
            &AsPath::new_checked(&b2, 2).unwrap(),
            &AsPath::new_checked(&b4, 4).unwrap(),
        );
        assert_eq!(m.to_string(), "100 23456 23456 300");
        // Equal length: AS4_PATH replaces it entirely.
        let b4 = four(&[(2, &[9, 4200000001, 4200000002, 300])]);
        let m = AsPathRepr::reconcile(
            &AsPath::new_checked(&b2, 2).unwrap(),
            &AsPath::new_checked(&b4, 4).unwrap(),
        );
        assert_eq!(m.to_string(), "9 4200000001 4200000002 300");
        // Sets count as one; confed segments in AS4_PATH are dropped.
        let b2 = two(&[(2, &[100, 23456]), (1, &[23456, 7])]);
        let b4 = four(&[(3, &[1]), (2, &[4200000001]), (1, &[4200000002, 7])]);
        let m = AsPathRepr::reconcile(
            &AsPath::new_checked(&b2, 2).unwrap(),
            &AsPath::new_checked(&b4, 4).unwrap(),
        );
        assert_eq!(m.to_string(), "100 4200000001 {4200000002,7}");
    }

    #[test]
    fn emit_round_trips_and_splits() {
        let r = AsPathRepr::sequence(0..300);
        let mut out = Vec::new();
        r.emit(4, &mut out);
        let p = AsPath::new_checked(&out, 4).unwrap();
        assert_eq!(p.segments().count(), 2);
        assert_eq!(p.asns().count(), 300);
        let mut out = Vec::new();
        AsPathRepr::sequence([65000, 4200000000]).emit(2, &mut out);
        let p = AsPath::new_checked(&out, 2).unwrap();
        assert_eq!(p.asns().collect::<Vec<_>>(), vec![65000, AS_TRANS]);
    }
}
