//! Finding one or two bytes in a slice: the framer's line ends, a string's quote or
//! backslash.
//!
//! Where the scanner has its tuned forms (x86_64, aarch64 without `--cfg qmp_compact`), these
//! are the `memchr` crate's functions, inlined. Elsewhere (the compact targets, see
//! `plain_run` in `json/scan.rs`) they are one small out-of-line loop, a word at a time:
//! `memchr`'s generic code, inlined at each use, cost about 2 KiB of flash on thumb.

/// The offset of the first `needle` in `hay`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
pub(crate) fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}

/// The offset of the first `a` or `b` in `hay`.
#[cfg(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
pub(crate) fn memchr2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr2(a, b, hay)
}

/// The offset of the first `needle` in `hay`.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline]
pub(crate) fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    find2(needle, needle, hay)
}

/// The offset of the first `a` or `b` in `hay`.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline]
pub(crate) fn memchr2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    find2(a, b, hay)
}

/// Bytes in a word.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
const W: usize = core::mem::size_of::<usize>();

/// The offset of the first `a` or `b` in `hay`, a word at a time.
///
/// `(x - 0x01..) & !x & 0x80..` sets the high bit of the lowest zero byte of `x` exactly
/// (bits above it may be wrong, borrows carry upwards); `x` is the word xor the needle, so
/// its zero bytes are the needle's places, and the lower of the two masks' lowest bits is
/// the first place of either needle.
#[cfg(not(all(not(qmp_compact), any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline(never)]
fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    const LO: usize = usize::MAX / 255;
    const HI: usize = LO << 7;
    let (sa, sb) = (LO * a as usize, LO * b as usize);
    let (words, tail) = hay.as_chunks::<W>();
    for (k, word) in words.iter().enumerate() {
        let w = usize::from_le_bytes(*word);
        let (x, y) = (w ^ sa, w ^ sb);
        let m = ((x.wrapping_sub(LO) & !x) | (y.wrapping_sub(LO) & !y)) & HI;
        if m != 0 {
            return Some(k * W + (m.trailing_zeros() / 8) as usize);
        }
    }
    let k = tail.iter().position(|&c| c == a || c == b)?;
    Some(words.len() * W + k)
}

#[cfg(test)]
mod tests {
    use super::{memchr, memchr2};

    /// Every haystack of up to 19 bytes over a small alphabet, every needle pair from it, at
    /// every start offset (so the words are read at every alignment), against a naive
    /// search.
    #[test]
    fn matches_a_naive_search() {
        let alphabet = [0u8, b'"', b'\\', b'\n', 0x7F, 0x80, 0xFF, b'a'];
        let mut hay = [0u8; 19];
        // A pseudo-random walk over the alphabet: long inputs with needles in every place.
        let mut state = 0x1234_5678u32;
        for round in 0..4000 {
            let len = round % hay.len() + 1;
            for c in hay.iter_mut().take(len) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                // Mostly one filler byte, so that matches are sparse and land past words.
                *c = if state.is_multiple_of(5) {
                    alphabet[(state >> 8) as usize % alphabet.len()]
                } else {
                    b'x'
                };
            }
            for start in 0..len {
                let h = &hay[start..len];
                for &a in &alphabet {
                    assert_eq!(memchr(a, h), h.iter().position(|&c| c == a), "{a} in {h:?}");
                    for &b in &alphabet {
                        let naive = h.iter().position(|&c| c == a || c == b);
                        assert_eq!(memchr2(a, b, h), naive, "{a} or {b} in {h:?}");
                    }
                }
            }
        }
    }

    /// Every haystack of 9 bytes (one word and a tail, on 32 and 64 bits) over the needles
    /// and the bytes one bit away from them, against a naive search.
    #[test]
    fn every_nine_byte_haystack() {
        let alphabet = [b'x', b'\n', 0xFF, b'\n' ^ 0x80, 0x7F];
        let mut h = [0u8; 9];
        for mut n in 0..alphabet.len().pow(9) {
            for c in h.iter_mut() {
                *c = alphabet[n % alphabet.len()];
                n /= alphabet.len();
            }
            let naive = h.iter().position(|&c| c == b'\n' || c == 0xFF);
            assert_eq!(memchr2(b'\n', 0xFF, &h), naive, "{h:?}");
            assert_eq!(memchr(0xFF, &h), h.iter().position(|&c| c == 0xFF), "{h:?}");
        }
    }

    /// A needle only in the last byte of a long input, after many words without one; none
    /// at all.
    #[test]
    fn long_inputs() {
        let mut hay = [b'x'; 100];
        assert_eq!(memchr2(b'\n', 0xFF, &hay), None);
        for end in [8, 9, 15, 16, 63, 64, 99] {
            hay[end] = 0xFF;
            assert_eq!(memchr2(b'\n', 0xFF, &hay), Some(end));
            assert_eq!(memchr(0xFF, &hay[..end]), None);
            hay[end] = b'x';
        }
    }
}
