//! What the user types into bytes on the wire, and bytes back into something readable.
//!
//! Text input understands the escapes `\r \n \t \0 \\ \xNN \u{XXXX}`; hex input accepts `48 65 6c`,
//! `0x48,0x65` and `48656c`. Display text is the inverse of text input: printable characters
//! stay, everything else becomes an escape, so what is shown can be pasted back and sent.

use std::fmt::{self, Write as _};

/// How the user's input is to be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Text with escapes.
    #[default]
    Text,
    /// Hex digits.
    Hex,
}

impl Encoding {
    /// What a tab's "Hex" switch says of its field: hex when on, else text.
    pub fn hex_if(hex: bool) -> Self {
        if hex { Encoding::Hex } else { Encoding::Text }
    }
}

/// What is appended to every payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineEnding {
    #[default]
    None,
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

/// Input that cannot be turned into bytes; `column` counts characters from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{problem} at column {column}")]
pub struct PayloadError {
    pub column: usize,
    pub problem: String,
}

impl PayloadError {
    fn at(column: usize, problem: impl Into<String>) -> Self {
        PayloadError {
            column,
            problem: problem.into(),
        }
    }
}

/// Turns the user's input into the bytes to send, line ending included.
pub fn encode(
    input: &str,
    encoding: Encoding,
    line_ending: LineEnding,
) -> Result<Vec<u8>, PayloadError> {
    let mut bytes = match encoding {
        Encoding::Text => parse_text(input)?,
        Encoding::Hex => parse_hex(input)?,
    };
    bytes.extend_from_slice(line_ending.bytes());
    Ok(bytes)
}

/// Text with escapes: `\r \n \t \0 \\ \xNN`, and `\u{XXXX}` for a character by its code
/// point (as the window writes what no installed font can draw); every other character is sent
/// as UTF-8.
pub fn parse_text(input: &str) -> Result<Vec<u8>, PayloadError> {
    let mut out = Vec::with_capacity(input.len());
    let mut chars = input.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        let column = index + 1;
        if c != '\\' {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let Some((_, escape)) = chars.next() else {
            return Err(PayloadError::at(
                column,
                "a lone `\\` ends the text (write `\\\\` for a backslash)",
            ));
        };
        match escape {
            'r' => out.push(b'\r'),
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            '0' => out.push(0),
            '\\' => out.push(b'\\'),
            'x' => {
                let high = chars.next_if(|(_, d)| d.is_ascii_hexdigit());
                let low = chars.next_if(|(_, d)| d.is_ascii_hexdigit());
                match (high, low) {
                    (Some((_, h)), Some((_, l))) => out.push(hex_value(h) << 4 | hex_value(l)),
                    _ => {
                        return Err(PayloadError::at(
                            column,
                            "`\\x` needs exactly two hex digits, like `\\x0a`",
                        ));
                    }
                }
            }
            'u' => {
                let character = chars
                    .next_if(|(_, open)| *open == '{')
                    .and_then(|_| {
                        let mut digits = String::new();
                        while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_hexdigit()) {
                            digits.push(d);
                        }
                        chars.next_if(|(_, close)| *close == '}')?;
                        (1..=6).contains(&digits.len()).then_some(digits)
                    })
                    .and_then(|digits| char::from_u32(u32::from_str_radix(&digits, 16).ok()?));
                let Some(character) = character else {
                    return Err(PayloadError::at(
                        column,
                        "`\\u` needs a character's code in hex between braces, like `\\u{c548}`",
                    ));
                };
                let mut utf8 = [0; 4];
                out.extend_from_slice(character.encode_utf8(&mut utf8).as_bytes());
            }
            other => {
                return Err(PayloadError::at(
                    column,
                    format!(
                        "unknown escape `\\{other}` (use \\r \\n \\t \\0 \\\\ or \\xNN; `\\\\` for a backslash)"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Hex bytes, in any of the spellings people paste: `48 65 6c`, `0x48,0x65`, `48656c`,
/// `48:65:6c`. Separators are spaces, commas, colons and dashes; each group has an even
/// number of digits.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, PayloadError> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let chars: Vec<char> = input.chars().collect();
    let is_separator = |c: char| c.is_whitespace() || matches!(c, ',' | ':' | '-');
    let mut i = 0;
    while i < chars.len() {
        if is_separator(chars[i]) {
            i += 1;
            continue;
        }
        let group_start = i;
        if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            i += 2;
        }
        let digits_start = i;
        while i < chars.len() && !is_separator(chars[i]) {
            if !chars[i].is_ascii_hexdigit() {
                return Err(PayloadError::at(
                    i + 1,
                    format!("`{}` is not a hex digit (0-9, a-f)", chars[i]),
                ));
            }
            i += 1;
        }
        let digits = &chars[digits_start..i];
        if digits.is_empty() {
            return Err(PayloadError::at(group_start + 1, "`0x` without digits"));
        }
        if digits.len() % 2 == 1 {
            return Err(PayloadError::at(
                group_start + 1,
                format!(
                    "odd number of hex digits in `{}` (each byte is two digits, like `0a`)",
                    chars[group_start..i].iter().collect::<String>()
                ),
            ));
        }
        out.extend(
            digits
                .chunks(2)
                .map(|pair| hex_value(pair[0]) << 4 | hex_value(pair[1])),
        );
    }
    Ok(out)
}

fn hex_value(digit: char) -> u8 {
    digit.to_digit(16).expect("caller checked the digit") as u8
}

/// Whether line breaks are kept in display text or escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// `\n` stays a line break (views that wrap).
    Keep,
    /// `\n` becomes `\n` too, so a whole chunk fits on one log line.
    Escape,
}

/// Bytes as readable text: valid UTF-8 stays, control characters and invalid bytes become
/// escapes (`\r`, `\x00`, `\xff`), and a backslash is doubled, so the text is valid input.
/// Bytes that are not UTF-8 text keep only their printable ASCII, as a hex dump's column
/// does: random bytes often make valid characters (combining marks, unassigned or far-flung
/// letters) that would show as stray glyphs among the escapes.
pub fn display_text(bytes: &[u8], lines: Lines) -> String {
    let mut out = String::with_capacity(bytes.len());
    if !reads_as_text(bytes) {
        for &byte in bytes {
            match byte {
                0x80.. => {
                    let _ = write!(out, "\\x{byte:02x}");
                }
                ascii => push_display_char(&mut out, char::from(ascii), lines),
            }
        }
        return out;
    }
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_display_char(&mut out, c, lines);
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Whether the bytes are UTF-8 text, allowing for a character cut at either end by the read
/// that brought them.
fn reads_as_text(bytes: &[u8]) -> bool {
    let cut_at_start = bytes
        .iter()
        .take(3)
        .take_while(|&&byte| byte & 0xc0 == 0x80)
        .count();
    match std::str::from_utf8(&bytes[cut_at_start..]) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

fn push_display_char(out: &mut String, c: char, lines: Lines) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' if lines == Lines::Keep => out.push('\n'),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
        c => out.push(c),
    }
}

/// Bytes as `48 65 6c`, the form hex input accepts.
pub fn hex_line(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A classic hex dump: offset, 16 bytes in hex, and the printable ASCII beside them.
/// `start` is the offset of the first byte, for dumps that continue a stream.
pub fn hex_dump(bytes: &[u8], start: u64) -> String {
    let mut out = String::with_capacity(bytes.len() / 16 * 78 + 78);
    for (row, line) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", start + row as u64 * 16);
        for column in 0..16 {
            match line.get(column) {
                Some(byte) => {
                    let _ = write!(out, "{byte:02x} ");
                }
                None => out.push_str("   "),
            }
            if column == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(line.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

/// A byte count the way people read it: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub struct ByteCount(pub u64);

impl fmt::Display for ByteCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        // 1023.95 and up would print as "1024.0": that is the next unit's 1.0.
        while value >= 1023.95 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}
