//! What the user types into bytes, and bytes back into text.

use netdeck::payload::{
    ByteCount, Encoding, LineEnding, Lines, display_text, encode, hex_dump, hex_line, parse_hex,
    parse_text,
};

#[test]
fn every_escape_becomes_its_byte() {
    assert_eq!(parse_text(r"a\rb").unwrap(), b"a\rb");
    assert_eq!(parse_text(r"a\nb").unwrap(), b"a\nb");
    assert_eq!(parse_text(r"a\tb").unwrap(), b"a\tb");
    assert_eq!(parse_text(r"a\0b").unwrap(), b"a\0b");
    assert_eq!(parse_text(r"a\\b").unwrap(), b"a\\b");
    assert_eq!(parse_text(r"\x00\x7f\xFF\x0a").unwrap(), b"\x00\x7f\xff\n");
}

#[test]
fn plain_text_is_sent_as_utf8() {
    assert_eq!(parse_text("héllo 한국").unwrap(), "héllo 한국".as_bytes());
    assert_eq!(parse_text("").unwrap(), b"");
}

#[test]
fn every_hex_spelling_is_accepted() {
    let hello = b"Hel";
    for spelling in [
        "48 65 6c",
        "48656c",
        "0x48,0x65,0x6c",
        "0x48, 0x65, 0x6C",
        "0x48656c",
        "48:65:6c",
        "48-65-6c",
        "  48\t65\n6c  ",
        "4865 6c",
    ] {
        assert_eq!(parse_hex(spelling).unwrap(), hello, "spelling {spelling:?}");
    }
    assert_eq!(parse_hex("").unwrap(), b"");
}

#[test]
fn bad_hex_is_rejected_with_its_column() {
    let error = parse_hex("48 zz").unwrap_err();
    assert_eq!(error.column, 4);
    assert_eq!(
        error.to_string(),
        "`z` is not a hex digit (0-9, a-f) at column 4"
    );

    let error = parse_hex("48 656").unwrap_err();
    assert_eq!(error.column, 4);
    assert!(
        error.problem.contains("odd number of hex digits in `656`"),
        "{error}"
    );

    let error = parse_hex("4").unwrap_err();
    assert_eq!(error.column, 1);

    let error = parse_hex("0x48 0x").unwrap_err();
    assert_eq!(error.column, 6);
    assert!(error.problem.contains("`0x` without digits"));
}

#[test]
fn bad_escapes_are_rejected_with_their_column() {
    let error = parse_text(r"ab\x4").unwrap_err();
    assert_eq!(error.column, 3);
    assert!(error.problem.contains("two hex digits"), "{error}");

    let error = parse_text(r"\x4g").unwrap_err();
    assert_eq!(error.column, 1);

    let error = parse_text(r"ok\q").unwrap_err();
    assert_eq!(error.column, 3);
    assert!(error.problem.contains(r"unknown escape `\q`"), "{error}");

    let error = parse_text("end\\").unwrap_err();
    assert_eq!(error.column, 4);
    assert!(error.problem.contains("lone"), "{error}");
}

#[test]
fn a_character_escaped_by_its_code_point_is_sent_as_utf8() {
    // As the window draws what no installed font has: pasted back, it sends the same bytes.
    assert_eq!(
        parse_text(r"hello \u{c548}\u{b155}\u{d558}\u{c138}\u{c694}").unwrap(),
        "hello 안녕하세요".as_bytes()
    );
    assert_eq!(parse_text(r"\u{1f600}!").unwrap(), "😀!".as_bytes());
    for bad in [
        r"\u",
        r"\u{}",
        r"\u{c548",
        r"\uc548",
        r"\u{d800}",
        r"\u{1234567}",
        r"\u{110000}",
    ] {
        let error = parse_text(&format!("ok{bad}")).unwrap_err();
        assert_eq!(error.column, 3, "{bad}: {error}");
        assert!(error.problem.contains(r"like `\u{c548}`"), "{bad}: {error}");
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    let error = parse_text(r"한국\z").unwrap_err();
    assert_eq!(error.column, 3);
}

#[test]
fn line_endings_are_appended() {
    assert_eq!(
        encode("hi", Encoding::Text, LineEnding::None).unwrap(),
        b"hi"
    );
    assert_eq!(
        encode("hi", Encoding::Text, LineEnding::Lf).unwrap(),
        b"hi\n"
    );
    assert_eq!(
        encode("hi", Encoding::Text, LineEnding::CrLf).unwrap(),
        b"hi\r\n"
    );
    assert_eq!(
        encode("68 69", Encoding::Hex, LineEnding::CrLf).unwrap(),
        b"hi\r\n"
    );
    assert!(encode("zz", Encoding::Hex, LineEnding::Lf).is_err());
}

#[test]
fn display_text_makes_control_bytes_and_invalid_utf8_visible() {
    assert_eq!(
        display_text(b"hi\x00\x1b\xff", Lines::Escape),
        r"hi\x00\x1b\xff"
    );
    assert_eq!(display_text(b"a\r\nb\t", Lines::Escape), r"a\r\nb\t");
    assert_eq!(display_text(b"a\r\nb", Lines::Keep), "a\\r\nb");
    assert_eq!(display_text(b"back\\slash", Lines::Escape), r"back\\slash");
    assert_eq!(display_text("한국".as_bytes(), Lines::Escape), "한국");
    // A character cut in half at the end of a chunk shows as its bytes.
    assert_eq!(
        display_text(&"한".as_bytes()[..2], Lines::Escape),
        r"\xed\x95"
    );
}

#[test]
fn displayed_text_can_be_sent_back_as_the_same_bytes() {
    let all_bytes: Vec<u8> = (0..=255).collect();
    for bytes in [all_bytes.as_slice(), b"line\r\n", "é\\x".as_bytes()] {
        let shown = display_text(bytes, Lines::Escape);
        assert_eq!(parse_text(&shown).unwrap(), bytes, "round trip of {shown}");
        assert_eq!(parse_hex(&hex_line(bytes)).unwrap(), bytes);
    }
}

#[test]
fn hex_dump_shows_offsets_hex_and_ascii() {
    let dump = hex_dump(b"Hello, world!\x00\x01\x02tail", 0);
    let lines: Vec<_> = dump.lines().collect();
    assert_eq!(
        lines,
        [
            "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|",
            "00000010  74 61 69 6c                                       |tail|",
        ]
    );
}

#[test]
fn a_continued_hex_dump_counts_from_its_start() {
    assert!(hex_dump(b"abc", 0x20).starts_with("00000020  61 62 63"));
}

#[test]
fn byte_counts_read_like_people_write_them() {
    assert_eq!(ByteCount(0).to_string(), "0 B");
    assert_eq!(ByteCount(1023).to_string(), "1023 B");
    assert_eq!(ByteCount(1536).to_string(), "1.5 KiB");
    assert_eq!(ByteCount(1_048_575).to_string(), "1.0 MiB");
    assert_eq!(ByteCount(1_048_524).to_string(), "1023.9 KiB");
    assert_eq!(ByteCount(2 * 1024 * 1024 * 1024).to_string(), "2.0 GiB");
}

#[test]
fn bytes_that_are_not_text_keep_only_printable_ascii_and_text_stays_whole() {
    // Random bytes: among them valid two-byte characters (U+058C, an unassigned letter; U+0353,
    // a combining mark) that would be drawn as stray glyphs.
    let random = b"<\x97\x8b!^\xd6\x8cye\xcd\x93q\x1b[31m\xe7\x92\x91\xff";
    assert_eq!(
        display_text(random, Lines::Escape),
        r"<\x97\x8b!^\xd6\x8cye\xcd\x93q\x1b[31m\xe7\x92\x91\xff"
    );
    let text = "grüße ✓ 한국 \u{1b}".as_bytes();
    assert_eq!(display_text(text, Lines::Escape), r"grüße ✓ 한국 \x1b");
    // Text cut by the reads before and after it is still text.
    let cut = &"한국어".as_bytes()[1..8];
    assert_eq!(display_text(cut, Lines::Escape), r"\x95\x9c국\xec\x96");
}
