//! Writing strings into JSON: escaping every byte JSON requires.

use super::escape::next_special;

/// Writes `s` as the contents of a JSON string (without quotes), escaping `"`, `\` and control
/// characters. Other characters pass through as UTF-8, so signed bytes survive unchanged.
pub fn write_escaped(w: &mut crate::Writer<'_>, s: &str) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let end = next_special(bytes, i);
        w.push(bytes.get(i..end).unwrap_or(&[]));
        let Some(&b) = bytes.get(end) else { break };
        match b {
            b'"' => w.push(b"\\\""),
            b'\\' => w.push(b"\\\\"),
            b'\n' => w.push(b"\\n"),
            b'\r' => w.push(b"\\r"),
            b'\t' => w.push(b"\\t"),
            0x08 => w.push(b"\\b"),
            0x0c => w.push(b"\\f"),
            _ => {
                w.push(b"\\u00");
                w.push(&crate::buf::hex_pair(b));
            }
        }
        i = end + 1;
    }
}

/// Writes `s` as a quoted JSON string.
pub fn write_string(w: &mut crate::Writer<'_>, s: &str) {
    w.push_byte(b'"');
    write_escaped(w, s);
    w.push_byte(b'"');
}
