//! Payloads both ways: typed text and hex into bytes (checked against a plain reference
//! reading of the same syntax), and bytes into display text, hex lines and hex dumps, with the
//! documented round trips asserted.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdeck_fuzz::payload::{
    ByteCount, Encoding, LineEnding, Lines, display_text, encode, hex_dump, hex_line, parse_hex,
    parse_text,
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let line_ending = match flags & 3 {
        0 => LineEnding::None,
        1 => LineEnding::Lf,
        _ => LineEnding::CrLf,
    };
    let input = String::from_utf8_lossy(bytes);
    check_text_input(&input, line_ending);
    check_hex_input(&input, line_ending);
    check_display_text(bytes);
    check_hex_line(bytes);
    let start = u64::from_le_bytes(padded(bytes));
    check_hex_dump(bytes, start);
    check_byte_count(start);
});

fn padded(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    let n = bytes.len().min(8);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn check_text_input(input: &str, line_ending: LineEnding) {
    let parsed = parse_text(input);
    match (&parsed, reference_text(input)) {
        (Ok(bytes), Ok(expected)) => assert_eq!(bytes, &expected, "{input:?}"),
        (Err(error), Err(column)) => {
            assert_eq!(error.column, column, "{input:?}");
            assert_eq!(input.chars().nth(column - 1), Some('\\'));
        }
        (got, expected) => panic!("{input:?}: got {got:?}, reference {expected:?}"),
    }
    check_encode(input, Encoding::Text, line_ending, &parsed);
    if let Ok(bytes) = &parsed {
        // What was sent, shown, can be pasted and sent again.
        assert_eq!(
            parse_text(&display_text(bytes, Lines::Escape)).as_ref(),
            Ok(bytes)
        );
    }
}

fn check_hex_input(input: &str, line_ending: LineEnding) {
    let parsed = parse_hex(input);
    match (&parsed, reference_hex(input)) {
        (Ok(bytes), Ok(expected)) => assert_eq!(bytes, &expected, "{input:?}"),
        (Err(error), Err(column)) => assert_eq!(error.column, column, "{input:?}"),
        (got, expected) => panic!("{input:?}: got {got:?}, reference {expected:?}"),
    }
    check_encode(input, Encoding::Hex, line_ending, &parsed);
    if let Ok(bytes) = &parsed {
        assert_eq!(parse_hex(&hex_line(bytes)).as_ref(), Ok(bytes));
    }
}

fn check_encode(
    input: &str,
    encoding: Encoding,
    line_ending: LineEnding,
    parsed: &Result<Vec<u8>, netdeck_fuzz::payload::PayloadError>,
) {
    let expected = parsed.clone().map(|mut bytes| {
        bytes.extend_from_slice(line_ending.bytes());
        bytes
    });
    assert_eq!(encode(input, encoding, line_ending), expected);
}

/// Text input read the plain way: find each backslash, look at what follows. `Err` holds the
/// column (in characters, from 1) of the backslash that starts a bad escape.
fn reference_text(input: &str) -> Result<Vec<u8>, usize> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        let Some(at) = rest.find('\\') else {
            out.extend_from_slice(rest.as_bytes());
            return Ok(out);
        };
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let backslash_at = input.len() - rest.len() + at;
        let column = input[..backslash_at].chars().count() + 1;
        let after = &rest[at + 1..];
        let (byte, used) = match after.bytes().next() {
            Some(b'r') => (b'\r', 1),
            Some(b'n') => (b'\n', 1),
            Some(b't') => (b'\t', 1),
            Some(b'0') => (0, 1),
            Some(b'\\') => (b'\\', 1),
            Some(b'x') => match after.get(1..3) {
                Some(digits) if digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    (u8::from_str_radix(digits, 16).expect("two hex digits"), 3)
                }
                _ => return Err(column),
            },
            _ => return Err(column),
        };
        out.push(byte);
        rest = &after[used..];
    }
}

/// Hex input read the plain way: groups between separators, an optional `0x`, then pairs of
/// digits. `Err` holds the column the parser is expected to blame.
fn reference_hex(input: &str) -> Result<Vec<u8>, usize> {
    let is_separator = |c: char| c.is_whitespace() || matches!(c, ',' | ':' | '-');
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut column = 0;
    for group in chars.split(|&c| is_separator(c)) {
        let group_column = column + 1;
        column += group.len() + 1;
        if group.is_empty() {
            continue;
        }
        let (prefix, digits) = match group {
            ['0', 'x' | 'X', digits @ ..] => (2, digits),
            digits => (0, digits),
        };
        if let Some(bad) = digits.iter().position(|c| !c.is_ascii_hexdigit()) {
            return Err(group_column + prefix + bad);
        }
        if digits.is_empty() || digits.len() % 2 == 1 {
            return Err(group_column);
        }
        for pair in digits.chunks(2) {
            let text: String = pair.iter().collect();
            out.push(u8::from_str_radix(&text, 16).expect("two hex digits"));
        }
    }
    Ok(out)
}

fn check_display_text(bytes: &[u8]) {
    let escaped = display_text(bytes, Lines::Escape);
    let kept = display_text(bytes, Lines::Keep);
    // Display text is valid text input for the very same bytes.
    assert_eq!(parse_text(&escaped).as_deref(), Ok(bytes));
    assert_eq!(parse_text(&kept).as_deref(), Ok(bytes));
    // Nothing invisible is left; only `Keep` keeps line breaks.
    assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
    assert!(
        !kept.chars().any(|c| c.is_control() && c != '\n'),
        "{kept:?}"
    );
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(|c| c.is_control() || c == '\\')
    {
        assert_eq!(escaped, text);
    }
}

fn check_hex_line(bytes: &[u8]) {
    let line = hex_line(bytes);
    assert_eq!(line.len(), (bytes.len() * 3).saturating_sub(1));
    assert_eq!(parse_hex(&line).as_deref(), Ok(bytes));
}

fn check_hex_dump(bytes: &[u8], start: u64) {
    // `start` is a stream offset: the offsets of the bytes dumped exist, so it is at most
    // `u64::MAX - len`.
    let start = start.min(u64::MAX - bytes.len() as u64);
    let dump = hex_dump(bytes, start);
    let rows: Vec<&str> = dump.split_terminator('\n').collect();
    assert_eq!(rows.len(), bytes.len().div_ceil(16));
    assert_eq!(dump.ends_with('\n'), !bytes.is_empty());
    for (index, (row, chunk)) in rows.iter().zip(bytes.chunks(16)).enumerate() {
        let (offset, rest) = row.split_once("  ").expect("offset, then two spaces");
        assert!(offset.len() >= 8, "{row:?}");
        assert_eq!(
            u64::from_str_radix(offset, 16),
            Ok(start + index as u64 * 16)
        );
        // The hex columns are valid hex input for the row's bytes.
        let (hex, ascii) = rest.split_at(16 * 3 + 1);
        assert_eq!(parse_hex(hex).as_deref(), Ok(chunk), "{row:?}");
        let ascii = ascii
            .strip_prefix(" |")
            .and_then(|a| a.strip_suffix('|'))
            .expect("ASCII between bars");
        let expected: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        assert_eq!(ascii, expected);
    }
}

fn check_byte_count(count: u64) {
    let shown = ByteCount(count).to_string();
    if count < 1024 {
        assert_eq!(shown, format!("{count} B"));
    } else {
        let (number, unit) = shown.split_once(' ').expect("a number and a unit");
        assert!(["KiB", "MiB", "GiB", "TiB"].contains(&unit), "{shown}");
        assert!(number.parse::<f64>().is_ok_and(|n| n >= 1.0), "{shown}");
    }
}
