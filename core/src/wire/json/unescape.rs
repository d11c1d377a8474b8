//! The unescaper, the decoder's hot loop: runs between escapes are copied in bulk, 64-byte blocks
//! are classified at once (SSE2, or AVX2 and SSSE3 detected at run time on x86_64; portable SWAR or
//! byte loops elsewhere).

use super::error::{JsonError, shift};
use super::escape::{ESCAPES, WORDWISE, decode_escape, decode_u};
use crate::buf::Bytes as _;
use crate::buf::copy_fixed;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use crate::wire::arch::{Avx2, Avx512, Ssse3};
use crate::wire::scan::{BLOCK, Escapes, Masks};

/// The unescaper's output for a string of a scanner's text, as text: on x86_64 not validated
/// a second time (valid by construction; the argument is in `wire::arch`), validated elsewhere.
/// Also a frame whose strings were unescaped in place (`Event::decode_in_place`).
#[inline]
pub(crate) fn unescaped_text(bytes: &[u8]) -> Option<&str> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    return Some(crate::wire::arch::text_by_construction(bytes));
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    crate::utf8(bytes)
}

/// The vector features the unescaper may use: capability tokens on x86_64, nothing elsewhere
/// (the default is the portable build).
#[derive(Clone, Copy, Default)]
pub(super) struct Features {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    ssse3: Option<Ssse3>,
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    avx2: Option<Avx2>,
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    avx512: Option<Avx512>,
}

/// One call of the unescaper, as work for `wire::arch::best` to compile per CPU feature set.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(super) struct Unescape<'a> {
    pub(super) s: &'a [u8],
    pub(super) from: usize,
    pub(super) out: &'a mut [u8],
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
impl crate::wire::arch::Kernel for Unescape<'_> {
    type Output = Result<(usize, usize, bool), JsonError>;

    #[inline(always)]
    fn run(self, ssse3: Option<Ssse3>, avx2: Option<Avx2>, avx512: Option<Avx512>) -> Self::Output {
        unescape_with(
            self.s,
            self.from,
            self.out,
            Features {
                ssse3,
                avx2,
                avx512,
            },
        )
    }
}

/// The bytes an escape may stand for by itself (`\"`, `\\`, `\/`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn identity_of(m: &Masks) -> u64 {
    m.quote | m.backslash | m.slash
}

/// One block of [`unescape`] by compaction (see the fastest path there): `starts` are the
/// escaping backslashes before `limit` (the closing quote when `closed`, else the block's
/// end), `simple` the escaped bytes that stand for themselves. Writes at `out[o..]` (at least
/// 80 bytes of room) and returns the new `o` and how many input bytes were consumed; an
/// escape cut by the block's end is left for the next block. `None` (with nothing written)
/// when the block needs the general path: an invalid escape, which that path reports.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn compact_block(
    ssse3: Ssse3,
    avx512: Option<Avx512>,
    s: &[u8],
    i: usize,
    mut limit: usize,
    closed: bool,
    starts: u64,
    simple: u64,
    out: &mut [u8],
    mut o: usize,
) -> Option<(usize, usize)> {
    // A copy of the block to rewrite escapes in (padded near the end of the text).
    let mut block = crate::wire::scan::with_block(s, i, |b| *b);
    // A backslash in the last byte escapes the next block's first: start there next time.
    if starts >> 63 != 0 {
        limit = limit.min(BLOCK - 1);
    }
    // Backslashes of `\"`, `\\`, `\/` just go.
    let mut drop = starts & (simple >> 1);
    let mut others = starts & !(simple >> 1) & !(1 << 63);
    while others != 0 {
        let k = others.trailing_zeros() as usize;
        if k >= limit {
            break;
        }
        let letter = *block.get(k + 1)?;
        if letter == b'u' {
            let decoded = decode_u(&block, k)
                .ok()
                .filter(|&(_, used)| k + used <= limit);
            let Some((c, used)) = decoded else {
                // Invalid, or cut by the block's end: the general path decides.
                if closed || k + 12 <= limit || k == 0 {
                    return None;
                }
                limit = k;
                break;
            };
            let mut utf8 = [0u8; 4];
            let enc = c.encode_utf8(&mut utf8).as_bytes();
            let enc_len = enc.len();
            // All four bytes (a fixed-size store); those past the character are dropped.
            copy_fixed::<4>(block.get_mut(k..k + 4)?, &utf8);
            let consumed = ((1u64 << used) - 1) << k;
            drop |= consumed & !(((1u64 << enc_len) - 1) << k);
            // A surrogate pair's second backslash is part of this escape.
            others &= !consumed;
        } else {
            let c = ESCAPES[usize::from(letter)];
            if c <= 1 {
                return None;
            }
            *block.get_mut(k)? = c;
            drop |= 1 << (k + 1);
            others &= others - 1;
        }
    }
    drop |= u64::MAX.checked_shl(limit as u32).unwrap_or(0);
    // With AVX-512 VBMI2 the whole block in one compress.
    if let Some(avx512) = avx512 {
        let dst = out
            .get_mut(o..o + BLOCK)
            .and_then(|d| <&mut [u8; BLOCK]>::try_from(d).ok())?;
        o += avx512.compact64(&block, drop, dst);
        return Some((o, limit));
    }
    // Lanes past the limit hold nothing to keep; lanes without escapes are copied whole.
    for (k, lane) in block.chunks_exact(16).enumerate().take(limit.div_ceil(16)) {
        let lane = <&[u8; 16]>::try_from(lane).ok()?;
        let dst = out
            .get_mut(o..o + 16)
            .and_then(|d| <&mut [u8; 16]>::try_from(d).ok())?;
        let lane_drop = (drop >> (16 * k)) as u16;
        if lane_drop == 0 {
            *dst = *lane;
            o += 16;
            continue;
        }
        o += ssse3.compact16(lane, lane_drop, dst);
    }
    Some((o, limit))
}

/// Unescapes raw string contents where they lie; returns the decoded length. Output never
/// overtakes input (every escape shrinks), and runs move with exact overlapping copies, so no
/// unread byte is overwritten.
///
/// Each 64-byte block is classified once and its escapes are walked by their bits (a
/// backslash that an earlier escape consumed, as in `\\` or a surrogate pair, is skipped);
/// until the first escape nothing moves at all. Classifying again after every escape, and
/// moving runs a byte at a time, made this the client's bottleneck (69% of its receive path
/// on the benchmark corpus).
pub(crate) fn unescape_in_place(buf: &mut [u8]) -> Result<usize, JsonError> {
    if !WORDWISE {
        return unescape_in_place_bytes(buf);
    }
    let (mut i, mut o) = (0usize, 0usize);
    while i < buf.len() {
        if let Some((used, written)) = simple_block_in_place(buf, i, o) {
            i += used;
            o += written;
            continue;
        }
        let block_end = i.saturating_add(BLOCK).min(buf.len());
        let mut backslashes = Masks::at(buf, i).backslash;
        // The next unread byte (an escape may run past the block's end).
        let mut run = i;
        while backslashes != 0 {
            let at = i + backslashes.trailing_zeros() as usize;
            backslashes &= backslashes - 1;
            if at < run || at >= block_end {
                continue;
            }
            move_run(buf, run..at, o);
            o += at - run;
            let (used, written) = unescape_one(buf, at, o)?;
            o += written;
            run = at + used;
        }
        if run < block_end {
            move_run(buf, run..block_end, o);
            o += block_end - run;
            run = block_end;
        }
        i = run;
    }
    Ok(o)
}

/// The common block of double-encoded data, in place: a whole 64-byte block at `i` whose
/// escapes are all `\"`, `\\` or `\/` (one cut by the block's end is left for the next
/// block). Its escaping backslashes are dropped in a local copy, stored at `o` with one
/// 64-byte copy: that touches only `buf[o..i + 64]`, bytes already read (`o <= i`), and
/// whatever lies past the decoded bytes is overwritten later or is the freed tail. Returns the
/// bytes read and written, or `None` for any other block (the escape-by-escape path takes it).
#[inline(always)]
fn simple_block_in_place(buf: &mut [u8], i: usize, o: usize) -> Option<(usize, usize)> {
    let block: [u8; BLOCK] = buf.get(i..i.checked_add(BLOCK)?)?.try_into().ok()?;
    let m = Masks::of(&block);
    let escaped = Escapes::default().escaped(m.backslash);
    let starts = m.backslash & !escaped;
    if starts == 0 {
        if o != i {
            copy_fixed::<BLOCK>(buf.get_mut(o..o + BLOCK)?, &block);
        }
        return Some((BLOCK, BLOCK));
    }
    if escaped & !(m.quote | m.backslash | m.slash) != 0 {
        return None;
    }
    // An escape cut by the block's end waits for the next block: this one takes 63 bytes,
    // when the text has already shrunk (the 64-byte store must not reach the 64th byte).
    let (used, starts) = if starts >> 63 != 0 {
        if o >= i {
            return None;
        }
        (BLOCK - 1, starts & !(1 << 63))
    } else {
        (BLOCK, starts)
    };
    let mut out = [0u8; BLOCK];
    let mut n = 0usize;
    for (k, b) in block.iter().enumerate().take(used) {
        out[n % BLOCK] = *b;
        n += usize::from((starts >> k) & 1 == 0);
    }
    copy_fixed::<BLOCK>(buf.get_mut(o..o + BLOCK)?, &out);
    Some((used, n))
}

/// Unescapes raw string contents where they lie, through `scratch` when it can hold them (on
/// hosts): the fast unescaper ([`unescape`]: vector classification, shuffles on x86_64)
/// writes into `scratch`, and the result is copied back (the text only shrinks). Without
/// room, the in-place path. Returns the decoded length; the bytes past it are left as they
/// were.
pub(crate) fn unescape_with_scratch(
    buf: &mut [u8],
    scratch: &mut [u8],
) -> Result<usize, JsonError> {
    // On bare metal flash counts more than speed: the in-place path only (the copying
    // unescaper linked into the client cost 3.6 KB of flash and 240 B of decode stack on
    // Cortex-M4, `scripts/footprint`).
    if cfg!(target_os = "none") || scratch.len() < buf.len().saturating_add(SLACK) {
        return unescape_in_place(buf);
    }
    let (_, n, _) = unescape(buf, 0, scratch)?;
    match (buf.get_mut(..n), scratch.get(..n)) {
        (Some(dst), Some(src)) => dst.copy_from(src),
        _ => return Err(JsonError::UnexpectedEnd),
    }
    Ok(n)
}

/// Whether [`unescape_into_scratch`] takes a string of `len` bytes with `scratch` bytes of
/// room: not on bare metal, where the in-place path is the rule.
pub(crate) fn fits_scratch(len: usize, scratch: usize) -> bool {
    !cfg!(target_os = "none") && scratch >= len.saturating_add(SLACK)
}

/// Unescapes the string body `src` (a slice of validated text) into the front of `scratch`
/// and leaves it there, with no copy back: the text and the rest of `scratch`. For a
/// `scratch` that [`fits_scratch`].
pub(crate) fn unescape_into_scratch<'s>(
    src: &[u8],
    scratch: &'s mut [u8],
) -> Result<(&'s str, &'s mut [u8]), JsonError> {
    let (_, n, _) = unescape(src, 0, scratch)?;
    let (kept, rest) = scratch
        .split_at_mut_checked(n)
        .ok_or(JsonError::UnexpectedEnd)?;
    // Valid by construction, as every unescaper output (the argument is in `wire::arch`).
    let text = unescaped_text(kept).ok_or(JsonError::InvalidEscape { at: 0 })?;
    Ok((text, rest))
}

/// Moves `buf[src]` down to `dest` (`dest <= src.start`), exactly: nothing past the run is
/// touched. Nothing to do while no escape has shrunk the text.
#[inline(always)]
fn move_run(buf: &mut [u8], src: core::ops::Range<usize>, dest: usize) {
    if dest == src.start || src.start >= src.end {
        return;
    }
    if src.end <= buf.len() && dest < src.start {
        buf.copy_within(src, dest);
    }
}

/// [`unescape_in_place`] a byte at a time (32-bit targets).
pub(super) fn unescape_in_place_bytes(buf: &mut [u8]) -> Result<usize, JsonError> {
    let (mut i, mut o) = (0usize, 0usize);
    while let Some(at) = buf
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\\'))
    {
        let at = i + at;
        buf.move_within(i..at, o);
        o += at - i;
        let (used, written) = unescape_one(buf, at, o)?;
        o += written;
        i = at + used;
    }
    let end = buf.len();
    buf.move_within(i..end, o);
    Ok(o + end.saturating_sub(i))
}

/// Decodes the escape at `buf[at]` and writes its UTF-8 at `buf[o]` (never past `at`):
/// returns the escape's length and the bytes written.
pub(super) fn unescape_one(
    buf: &mut [u8],
    at: usize,
    o: usize,
) -> Result<(usize, usize), JsonError> {
    let (c, used) = decode_escape(buf, at)?;
    let mut tmp = [0u8; 4];
    let enc = c.encode_utf8(&mut tmp).as_bytes();
    buf.get_mut(o..o + enc.len())
        .ok_or(JsonError::UnexpectedEnd)?
        .copy_from(enc);
    Ok((used, enc.len()))
}

/// Unescapes the string starting at `s[from]` (just after an opening quote) into `out`,
/// stopping at the closing quote or the end of `s`. Returns the offset just past the closing
/// quote (or `s.len()`), the bytes written, and whether a closing quote ended it.
///
/// The hot loop: classify 64 bytes at once, find the closing quote and the escapes of the
/// whole block with bit tricks, then copy each run between escapes with one 16-byte store.
/// Blocks always start at an unescaped byte, so no state crosses them.
pub(crate) fn unescape(
    s: &[u8],
    from: usize,
    out: &mut [u8],
) -> Result<(usize, usize, bool), JsonError> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    return crate::wire::arch::best(Unescape { s, from, out });
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    unescape_with(s, from, out, Features::default())
}

/// The unescaper, for the given features: AVX2 classifies blocks with 32-byte compares, and
/// with SSSE3 blocks of simple escapes are compacted with shuffles.
#[inline(always)]
pub(super) fn unescape_with(
    s: &[u8],
    from: usize,
    out: &mut [u8],
    features: Features,
) -> Result<(usize, usize, bool), JsonError> {
    let (mut i, mut o) = (from, 0usize);
    while i < s.len() {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        let m = match (features.avx512, features.avx2) {
            (Some(avx512), _) => crate::wire::scan::with_block(s, i, |block| {
                Masks::from_classes(avx512.classify(block))
            }),
            (None, Some(avx2)) => crate::wire::scan::with_block(s, i, |block| {
                Masks::from_classes(avx2.classify(block))
            }),
            (None, None) => Masks::at(s, i),
        };
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        let m = {
            let _ = features;
            Masks::at(s, i)
        };
        let escaped = Escapes::default().escaped(m.backslash);
        let quotes = m.quote & !escaped;
        let end = quotes.trailing_zeros() as usize; // 64 when the block has no end quote
        let before_end = if end >= BLOCK {
            u64::MAX
        } else {
            (1u64 << end) - 1
        };
        if m.control & before_end != 0 {
            return Err(JsonError::ControlCharacter {
                at: i + m.control.trailing_zeros() as usize,
            });
        }
        let mut starts = m.backslash & !escaped & before_end;
        // Fast path for double-encoded data: every escape in the block is `\"`, `\\` or `\/`,
        // none straddles the block's end, and both buffers have a block of slack. Dropping
        // each escaping backslash is then all there is to do: the escaped byte starts the
        // next run.
        // Fastest path (SSSE3): rewrite every escape of the block inside a local copy (the
        // decoded bytes go where the escape began, the rest of it is marked to drop), then
        // drop the marked bytes sixteen at a time with shuffles. Blocks where an escape is
        // cut by the block's end, or is invalid, take the paths below instead.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some(ssse3) = features.ssse3.filter(|_| o + SLACK <= out.len()) {
            let closed = end < BLOCK;
            let limit = if closed { end } else { BLOCK.min(s.len() - i) };
            let simple = escaped & identity_of(&m);
            if let Some((o2, used)) = compact_block(
                ssse3,
                features.avx512,
                s,
                i,
                limit,
                closed,
                starts,
                simple,
                out,
                o,
            ) {
                o = o2;
                if closed && used == end {
                    return Ok((i + end + 1, o, true));
                }
                i += used;
                continue;
            }
        }
        let identity = m.quote | m.backslash | m.slash;
        if escaped & before_end & !(identity | m.letter_u) == 0
            && starts >> 63 == 0
            && o + SLACK <= out.len()
        {
            // Near the end of the text, work on a padded copy so every store is 16 bytes.
            let tail;
            let (src, base) = match s.get(i..i + SLACK) {
                Some(_) => (s, i),
                None => {
                    let rest = s.get(i..).unwrap_or(&[]);
                    tail = crate::wire::scan::padded::<SLACK>(rest, b'z');
                    (&tail[..], 0)
                }
            };
            let mut local = 0usize;
            while starts != 0 {
                let k = starts.trailing_zeros() as usize;
                o = copy_short(src, base + local, base + k, out, o);
                if src.get(base + k + 1) == Some(&b'u') {
                    let (c, used) = decode_u(src, base + k).map_err(|e| shift(e, i - base))?;
                    let mut utf8 = [0u8; 4];
                    let len = c.encode_utf8(&mut utf8).len();
                    if let Some(dst) = out.get_mut(o..o + 4) {
                        copy_fixed::<4>(dst, &utf8);
                    }
                    o += len;
                    local = k + used;
                    starts = if local >= BLOCK {
                        0
                    } else {
                        starts & (u64::MAX << local)
                    };
                } else {
                    // `\"`, `\\` or `\/`: drop the backslash, the next run starts at the letter.
                    local = k + 1;
                    starts &= starts - 1;
                }
            }
            if local >= BLOCK {
                i += local;
                continue;
            }
            if end < BLOCK {
                o = copy_short(src, base + local, base + end, out, o);
                return Ok((i + end + 1, o, true));
            }
            let stop = BLOCK.min(s.len() - i);
            o = copy_short(src, base + local, base + stop, out, o);
            i += stop;
            continue;
        }
        let mut local = 0usize;
        while starts != 0 {
            let k = starts.trailing_zeros() as usize;
            let at = i + k;
            o = copy_run(s, i + local, at, out, o, from)?;
            let letter = s.get(at + 1).copied().ok_or(JsonError::UnexpectedEnd)?;
            if matches!(letter, b'"' | b'\\' | b'/') {
                // The common case in double-encoded data: the letter is the character.
                *out.get_mut(o).ok_or(too_small(s, from))? = letter;
                o += 1;
                local = k + 2;
            } else if letter == b'u' {
                let (c, used) = decode_u(s, at)?;
                let mut tmp = [0u8; 4];
                let enc = c.encode_utf8(&mut tmp).as_bytes();
                out.get_mut(o..o + enc.len())
                    .ok_or(too_small(s, from))?
                    .copy_from(enc);
                o += enc.len();
                local = k + used;
                // A surrogate pair's second backslash was consumed too.
                starts = if local >= BLOCK {
                    0
                } else {
                    starts & (u64::MAX << local)
                };
                continue;
            } else {
                let c = ESCAPES[usize::from(letter)];
                if c <= 1 {
                    return Err(JsonError::InvalidEscape { at });
                }
                *out.get_mut(o).ok_or(too_small(s, from))? = c;
                o += 1;
                local = k + 2;
            }
            starts &= starts - 1;
        }
        if end < BLOCK && local <= end {
            o = copy_run(s, i + local, i + end, out, o, from)?;
            return Ok((i + end + 1, o, true));
        }
        let block_end = i.saturating_add(BLOCK).min(s.len());
        if local < BLOCK {
            o = copy_run(s, i + local, block_end, out, o, from)?;
            i = block_end;
        } else {
            i += local;
        }
    }
    Ok((s.len(), o, false))
}

/// Room the fast unescape path needs past a block start: a block, a surrogate pair that
/// straddles its end, and one 16-byte store.
pub(super) const SLACK: usize = BLOCK + 48;

/// Copies a run of at most one block with 32-byte stores (one store for most runs, so the
/// loop rarely branches back); the caller guarantees [`SLACK`] bytes after the run's start in
/// `s` and after `o` in `out`.
#[inline(always)]
pub(super) fn copy_short(
    s: &[u8],
    mut from: usize,
    to: usize,
    out: &mut [u8],
    mut o: usize,
) -> usize {
    loop {
        if let (Some(src), Some(dst)) = (s.get(from..from + 32), out.get_mut(o..o + 32)) {
            copy_fixed::<32>(dst, src);
        }
        let step = to.saturating_sub(from).min(32);
        from += step;
        o += step;
        if from >= to {
            return o;
        }
    }
}

/// Copies `s[from..to]` to `out[o..]`; returns the new output offset. Runs (at most a block
/// long) are copied with 16-byte stores that may write past the run but never past `out`;
/// later writes cover the excess.
#[inline(always)]
pub(super) fn copy_run(
    s: &[u8],
    mut from: usize,
    to: usize,
    out: &mut [u8],
    mut o: usize,
    start: usize,
) -> Result<usize, JsonError> {
    while from < to {
        match (
            s.get(from..from.wrapping_add(16)),
            out.get_mut(o..o.wrapping_add(16)),
        ) {
            (Some(src), Some(dst)) => {
                copy_fixed::<16>(dst, src);
                let step = (to - from).min(16);
                from += step;
                o += step;
            }
            _ => {
                let src = s.get(from..to).unwrap_or(&[]);
                out.get_mut(o..o + src.len())
                    .ok_or(too_small(s, start))?
                    .copy_from(src);
                return Ok(o + src.len());
            }
        }
    }
    Ok(o)
}

pub(super) fn too_small(s: &[u8], from: usize) -> JsonError {
    JsonError::BufferTooSmall {
        needed: s.len().saturating_sub(from),
    }
}
