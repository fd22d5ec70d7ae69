//! AS_PATH text as bgpdump writes it, and its merge of AS_PATH with
//! AS4_PATH for 2-octet sessions.
//!
//! The text: AS numbers of an AS_SEQUENCE separated by spaces, an AS_SET in
//! `{a,b}`, an AS_CONFED_SEQUENCE in `(a b)`, an AS_CONFED_SET in `[a,b]`,
//! segments separated by one space. A malformed path (unknown segment type,
//! a segment running past the end) prints `! Error !`; a text longer than
//! 7900 characters is cut after the AS number that crossed that mark and
//! ends in `...`.
//!
//! The merge is bgpdump's, not RFC 6793's: it counts a confederation
//! sequence like a sequence, and it fills the leading part of the merged
//! path by copying the *first* segment of AS_PATH over and over (the copy
//! loop never moves to the next segment), cutting the last copy of a
//! sequence to length. For the common single-sequence path that equals the
//! RFC result.

use crate::decode::fmt::Small;

/// Where bgpdump stops writing an AS path (`MAX_ASPATH_LEN - 100`).
const TEXT_LIMIT: usize = 7900;
/// Octets of merged path after which its text is past [`TEXT_LIMIT`]
/// (every AS number prints at least two characters).
const MERGE_LIMIT: usize = 4 * TEXT_LIMIT;
/// What a malformed path prints.
pub const ERROR_TEXT: &[u8] = b"! Error !";

const SET: u8 = 1;
const SEQUENCE: u8 = 2;
const CONFED_SEQUENCE: u8 = 3;
const CONFED_SET: u8 = 4;

/// Opening and closing characters of a segment type.
fn delimiters(seg_type: u8) -> (u8, u8) {
    match seg_type {
        SET => (b'{', b'}'),
        CONFED_SET => (b'[', b']'),
        CONFED_SEQUENCE => (b'(', b')'),
        _ => (b' ', b' '),
    }
}

/// Appends the text of an AS path whose AS numbers have `asn_len` octets
/// and returns bgpdump's count of it (a sequence counts its length, a set
/// one; 0 for a malformed path).
pub fn render(data: &[u8], asn_len: usize, out: &mut Vec<u8>) -> i32 {
    let start = out.len();
    let mut count: i32 = 0;
    let mut prev_type = SEQUENCE;
    let mut last_type = None;
    let mut space = false;
    let mut pos = 0;
    while pos < data.len() {
        let seg_type = data[pos];
        let ok_type = matches!(seg_type, SET | SEQUENCE | CONFED_SEQUENCE | CONFED_SET);
        let n = data.get(pos + 1).map_or(0, |&n| usize::from(n));
        if !ok_type || pos + 2 + n * asn_len > data.len() {
            out.truncate(start);
            out.extend_from_slice(ERROR_TEXT);
            return 0;
        }
        if prev_type != SEQUENCE {
            out.push(delimiters(prev_type).1);
        }
        if space {
            out.push(b' ');
        }
        if seg_type != SEQUENCE {
            out.push(delimiters(seg_type).0);
        }
        space = false;
        count += match seg_type {
            SEQUENCE | CONFED_SEQUENCE => n as i32,
            _ => 1,
        };
        let sep = if matches!(seg_type, SET | CONFED_SET) {
            b','
        } else {
            b' '
        };
        let asns = &data[pos + 2..pos + 2 + n * asn_len];
        for chunk in asns.chunks_exact(asn_len) {
            let mut text = Small::new();
            if space {
                text.byte(sep);
            } else {
                space = true;
            }
            let asn = match *chunk {
                [a, b] => u32::from(u16::from_be_bytes([a, b])),
                [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
                _ => 0,
            };
            text.u32(asn);
            out.extend_from_slice(text.as_bytes());
            if out.len() - start > TEXT_LIMIT {
                out.extend_from_slice(b"...");
                return count;
            }
        }
        prev_type = seg_type;
        last_type = Some(seg_type);
        pos += 2 + n * asn_len;
    }
    if let Some(t) = last_type.filter(|&t| t != SEQUENCE) {
        out.push(delimiters(t).1);
    }
    count
}

/// bgpdump's count of a path without its text.
pub fn count(data: &[u8], asn_len: usize, scratch: &mut Vec<u8>) -> i32 {
    scratch.clear();
    render(data, asn_len, scratch)
}

/// Builds in `merged` (4-octet AS numbers) bgpdump's merge of a 2-octet
/// AS_PATH (`path`, counted `path_count`) with AS4_PATH (`as4`, counted
/// `as4_count`); the caller checked `path_count >= as4_count`.
///
/// Returns false where bgpdump ends up with no path at all: when the first
/// segment is an empty sequence, its copy loop never gets closer to the
/// count it wants and grows the path until the allocation fails, after
/// which the AS_PATH field prints empty.
pub fn merge(
    path: &[u8],
    path_count: i32,
    as4: &[u8],
    as4_count: i32,
    merged: &mut Vec<u8>,
) -> bool {
    merged.clear();
    let want = path_count - as4_count;
    let mut have: i32 = 0;
    if let [seg_type, n, rest @ ..] = path {
        let n_asns = usize::from(*n);
        let asns = rest.get(..n_asns * 2).unwrap_or(rest);
        while have < want {
            let at = merged.len();
            merged.push(*seg_type);
            merged.push(*n);
            for pair in asns.chunks_exact(2) {
                merged.extend_from_slice(&[0, 0, pair[0], pair[1]]);
            }
            if matches!(*seg_type, SET | CONFED_SET) {
                have += 1;
            } else {
                if n_asns == 0 {
                    return false;
                }
                have += n_asns as i32;
                if have > want {
                    let over = (have - want) as usize;
                    merged[at + 1] = n_asns.saturating_sub(over) as u8;
                    merged.truncate(merged.len().saturating_sub(over * 4));
                }
            }
            if merged.len() > MERGE_LIMIT {
                // The text of what was copied already runs past
                // TEXT_LIMIT, so more copies cannot change what prints.
                break;
            }
        }
    }
    merged.extend_from_slice(as4);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(asn_len: usize, segs: &[(u8, &[u32])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (t, asns) in segs {
            v.push(*t);
            v.push(asns.len() as u8);
            for a in *asns {
                v.extend_from_slice(&a.to_be_bytes()[4 - asn_len..]);
            }
        }
        v
    }

    fn text(data: &[u8], asn_len: usize) -> (String, i32) {
        let mut out = Vec::new();
        let c = render(data, asn_len, &mut out);
        (String::from_utf8(out).unwrap(), c)
    }

    #[test]
    fn segments_print_like_bgpdump() {
        let p = path(
            4,
            &[
                (2, &[1, 2]),
                (1, &[3, 4]),
                (3, &[5, 6]),
                (4, &[7]),
                (2, &[8]),
            ],
        );
        assert_eq!(
            text(&p, 4),
            ("1 2 {3,4} (5 6) [7] 8".into(), 2 + 1 + 2 + 1 + 1)
        );
        let p = path(2, &[(1, &[3, 4])]);
        assert_eq!(text(&p, 2), ("{3,4}".into(), 1));
        assert_eq!(text(&[], 4), (String::new(), 0));
        // An empty segment prints nothing and swallows the next separator.
        let p = path(4, &[(2, &[1]), (2, &[]), (2, &[2])]);
        assert_eq!(text(&p, 4).0, "1 2");
    }

    #[test]
    fn malformed_and_long_paths() {
        assert_eq!(text(&[5, 1, 0, 1], 2), ("! Error !".into(), 0));
        assert_eq!(text(&[2, 2, 0, 1], 2), ("! Error !".into(), 0));
        assert_eq!(text(&[2], 2), ("! Error !".into(), 0));
        let asns: Vec<u32> = (0..255).map(|i| 4_200_000_000 + i).collect();
        let segs: Vec<(u8, &[u32])> = (0..4).map(|_| (2u8, &asns[..])).collect();
        let (t, _) = text(&path(4, &segs), 4);
        assert!(t.ends_with("..."));
        // 719 ten-digit numbers and their spaces pass 7900 characters.
        assert_eq!(t.len(), 719 * 11 - 1 + 3);
    }

    #[test]
    fn merge_single_sequence() {
        let two = path(2, &[(2, &[100, 23456, 23456, 300])]);
        let four = path(4, &[(2, &[4_200_000_001, 4_200_000_002, 300])]);
        let mut m = Vec::new();
        assert!(merge(&two, 4, &four, 3, &mut m));
        assert_eq!(text(&m, 4).0, "100 4200000001 4200000002 300");
    }

    #[test]
    fn merge_repeats_the_first_segment() {
        // bgpdump copies the first segment again instead of moving on.
        let two = path(2, &[(1, &[1, 2]), (2, &[3, 23456, 5])]);
        let four = path(4, &[(2, &[70_000, 5])]);
        let mut m = Vec::new();
        assert!(merge(&two, 4, &four, 2, &mut m));
        assert_eq!(text(&m, 4).0, "{1,2} {1,2} 70000 5");
    }

    #[test]
    fn merge_fails_on_an_empty_first_sequence() {
        // bgpdump runs out of memory on this one and prints no AS path.
        let two = path(2, &[(2, &[]), (2, &[1, 2, 3])]);
        let four = path(4, &[(2, &[70_000])]);
        assert!(!merge(&two, 3, &four, 1, &mut Vec::new()));
        // An empty first set still counts one.
        let two = path(2, &[(1, &[]), (2, &[1, 2])]);
        let mut m = Vec::new();
        assert!(merge(&two, 3, &four, 1, &mut m));
        assert_eq!(text(&m, 4).0, "{}{}70000");
    }
}
