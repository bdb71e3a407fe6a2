#!/usr/bin/env bash
# Where the release binary's bytes go, by crate and by what the crates are for.
#
# Builds the release binary keeping its symbols (NETDECK_KEEP_SYMBOLS=1 differs from the shipped
# build only in not stripping), strips a copy to give the shipped size, and sums every symbol's
# size by the crate its name starts with. Generic code is named after the crate that defines the
# function (`core::ptr::drop_in_place<netdeck::…>` counts as core), so "Rust's standard library"
# includes instantiations made for other crates. Bytes that no symbol names (string constants,
# Slint's embedded tables, section padding) are the "unnamed" row.
#
#   bash bench/binary-size.sh [BINARY_WITH_SYMBOLS]   # writes bench/results-binary-size.md
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-}
if [[ -z $binary ]]; then
    NETDECK_KEEP_SYMBOLS=1 CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/symbols} \
        cargo build --release --locked
    binary=${CARGO_TARGET_DIR:-target/symbols}/release/netdeck
fi
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$binary"

summarise=$(cat <<'EOF'
import collections, re, sys

stripped = int(sys.argv[1])
AREAS = [
    ("netdeck's own code", ["netdeck"]),
    ("Rust's standard library (and generic code instantiated from it)",
     ["core", "alloc", "std", "hashbrown", "gimli", "addr2line", "rustc_demangle", "miniz_oxide",
      "adler2", "memchr", "smallvec", "once_cell", "T", "object"]),
    ("Slint: language runtime, layout, software renderer",
     ["i_slint_core", "i_slint_renderer_software", "i_slint_common", "slint", "taffy", "euclid",
      "lyon_path", "lyon_geom", "lyon_algorithms", "lyon_extra", "unicode_linebreak",
      "unicode_segmentation", "icu_segmenter", "icu_provider", "icu_collections", "icu_locale_core",
      "icu_properties", "zerovec", "yoke", "tinystr", "potential_utf", "clru", "unicode_script",
      "unicode_bidi", "integer_sqrt", "num_traits", "portable_atomic", "pin_weak", "vtable",
      "const_field_offset", "scoped_tls_hkt", "lru", "bitflags", "derive_more", "strum", "rgb",
      "imgref", "linked_hash_set"]),
    ("Fonts and text shaping (parley, skrifa, harfrust, zeno, fontique)",
     ["skrifa", "read_fonts", "harfrust", "zeno", "parley", "parley_data", "swash", "fontique",
      "fontconfig_sys", "font_types", "yazi", "ttf_parser", "core_maths", "bytemuck"]),
    ("Images and SVG (resvg, tiny-skia, JPEG, WebP, PNG decoders)",
     ["usvg", "resvg", "tiny_skia", "tiny_skia_path", "zune_jpeg", "zune_core", "image_webp",
      "png", "image", "kurbo", "svgtypes", "roxmltree", "simplecss", "strict_num", "fdeflate",
      "crc32fast", "data_url", "xmlwriter", "float_cmp", "rctree", "siphasher", "imagesize",
      "arrayref", "pico_args", "fdeflate", "weezl", "byteorder_lite", "quick_error"]),
    ("Window system: winit, X11, keyboard, clipboard",
     ["winit", "i_slint_backend_winit", "i_slint_backend_selector", "x11_dl", "x11rb",
      "x11rb_protocol", "xkbcommon_dl", "calloop", "arboard", "webbrowser", "copypasta",
      "raw_window_handle", "rustix", "linux_raw_sys", "polling", "xcursor", "dpi",
      "cursor_icon", "smol_str", "softbuffer", "memmap2", "libloading", "dlib", "as_raw_xcb_connection",
      "xkeysym", "percent_encoding", "i_slint_renderer_femtovg"]),
    ("Accessibility: AccessKit and the D-Bus client (zbus) it speaks AT-SPI with",
     ["zbus", "zvariant", "accesskit", "accesskit_unix", "accesskit_consumer", "accesskit_atspi_common",
      "accesskit_winit", "atspi_common", "atspi_proxies", "atspi", "zbus_names", "serde_repr",
      "enumflags2", "event_listener_strategy", "async_broadcast", "ordered_stream", "async_process",
      "async_fs", "nix", "uds_windows", "hex", "xdg_home", "sha1", "digest", "block_buffer",
      "zvariant_utils", "endi", "async_executor", "async_lock"]),
    ("TLS: rustls, ring, webpki and its root certificates",
     ["rustls", "ring", "webpki", "rustls_webpki", "webpki_roots", "rustls_pki_types",
      "futures_rustls", "rcgen", "yasna", "time", "pem", "untrusted", "zeroize", "subtle"]),
    ("HTTP: surf, http-types, URL, cookies, gzip and brotli",
     ["surf", "http_types", "http_client", "url", "idna", "form_urlencoded", "cookie",
      "brotli_decompressor", "flate2", "httparse", "serde_urlencoded", "serde_qs", "infer",
      "mime_guess", "rand", "rand_core", "rand_chacha", "ppv_lite86", "getrandom",
      "alloc_no_stdlib", "alloc_stdlib", "base64", "anyhow", "async_std", "utf8_iter",
      "idna_adapter", "stable_deref_trait", "writeable", "litemap", "encoding_rs"]),
    ("Async runtime: smol, async-io, async-net, channels",
     ["smol", "async_io", "async_net", "async_task", "async_channel", "async_signal", "blocking",
      "futures_lite", "futures_core", "futures_io", "futures_util", "event_listener",
      "concurrent_queue", "parking", "piper", "fastrand", "async_trait", "waker_fn",
      "signal_hook_registry", "crossbeam_utils", "pin_project_lite", "tracing", "tracing_core",
      "log", "slab", "atomic_waker", "futures_channel", "futures_task", "kv_log_macro"]),
    ("Command line and settings: clap, toml, serde",
     ["clap_builder", "clap", "clap_lex", "toml", "toml_parser", "toml_writer", "toml_datetime",
      "serde", "serde_core", "serde_json", "indexmap", "itoa", "ryu", "equivalent", "winnow",
      "serde_spanned", "anstyle", "strsim"]),
]
area_of = {crate: area for area, crates in AREAS for crate in crates}
by_crate = collections.Counter()
for line in sys.stdin:
    fields = line.split(None, 3)
    if len(fields) < 4:
        continue
    name = fields[3].strip().lstrip("<&*").replace("dyn ", "").replace("mut ", "")
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)", name)
    crate = match.group(1) if match else "?"
    # ring's C and assembly symbols carry its version in their prefix.
    if crate.startswith("ring_core_") or crate.startswith("ecp_nistz256") or crate in (
            "GFp", "OPENSSL_ia32cap_P"):
        crate = "ring"
    by_crate[crate] += int(fields[1], 16)

named = sum(by_crate.values())
by_area = collections.Counter()
other = collections.Counter()
for crate, size in by_crate.items():
    area = area_of.get(crate)
    if area is None:
        other[crate] += size
    else:
        by_area[area] += size

def mb(size):
    return f"{size / 1e6:.2f}"

print("# The release binary, by what its bytes are for\n")
print("Written by `bash bench/binary-size.sh`: every symbol of a release build kept unstripped,")
print("summed by the crate its name starts with; the shipped binary is the same build stripped.\n")
print(f"Stripped: **{mb(stripped)} MB** ({stripped:,} bytes). Named symbols: {mb(named)} MB.\n")
print("| what | MB | largest crates (KB) |")
print("| --- | ---: | --- |")
for area, size in by_area.most_common():
    crates = sorted((c for c in by_crate if area_of.get(c) == area), key=lambda c: -by_crate[c])
    top = ", ".join(f"{c} {by_crate[c] / 1e3:.0f}" for c in crates[:5])
    print(f"| {area} | {mb(size)} | {top} |")
top_other = ", ".join(f"{c} {s / 1e3:.0f}" for c, s in other.most_common(6))
print(f"| other crates and C symbols | {mb(sum(other.values()))} | {top_other} |")
print(f"| unnamed: constants, embedded tables, headers, padding | {mb(stripped - named)} | |")
print(f"| **total** | **{mb(stripped)}** | |")
EOF
)
nm --print-size --size-sort --demangle "$binary" |
    python3 -c "$summarise" "$(stat -c %s "$stripped")" > bench/results-binary-size.md
cat bench/results-binary-size.md
