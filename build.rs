use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Linker flags that make the release binary smaller, and why each is worth it.
const SMALLER_BINARY: [(&str, &str); 3] = [
    // A position-independent binary carries a 24-byte relocation for every pointer in its
    // tables, about half a megabyte here, all of it read at every start. Packed, they take a
    // few kilobytes. Needs glibc 2.36 where the binary runs (NETDECK_PLAIN_LINK=1 leaves
    // every size flag out).
    ("-Wl,-z,pack-relative-relocs", "packed relocations"),
    // Generic Rust code leaves many functions with identical machine code; keep one of each.
    ("-Wl,--icf=all", "identical code folding"),
    // The lookup table for unwinding. With panic = "abort" nothing unwinds, and a stripped
    // binary's backtrace has no names to show anyway.
    ("-Wl,--no-eh-frame-hdr", "no unwinding index"),
];

/// The unwinding tables themselves (`.eh_frame`, 1.2 MB), dropped by a linker script added to
/// the default layout. With panic = "abort" nothing reads them: a panic still prints its
/// message and location, only the backtrace shows no frames.
const NO_UNWIND_TABLES: &str = "SECTIONS { /DISCARD/ : { *(.eh_frame) } } INSERT AFTER .text;\n";

/// The functions a window start runs, in the order `scripts/startup-order.sh` saw them.
const STARTUP_ORDER: &str = "assets/startup-order.txt";

fn main() {
    // Debug info lets UI tests find elements by accessible label, in any profile.
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint compiles");

    if env::var("PROFILE").is_ok_and(|profile| profile == "release") {
        add_size_flags();
    }
}

fn add_size_flags() {
    // Stripped here rather than by the profile: a build with `NETDECK_KEEP_SYMBOLS=1` then
    // differs only in this flag, so its symbol names are the ones the startup order lists
    // (`scripts/startup-order.sh`).
    println!("cargo:rerun-if-env-changed=NETDECK_KEEP_SYMBOLS");
    if env::var_os("NETDECK_KEEP_SYMBOLS").is_none() {
        println!("cargo:rustc-link-arg=-Wl,--strip-all");
    }
    let target = env::var("TARGET").unwrap_or_default();
    // The answers depend on the linker and flags, so ask again when they change.
    let triple = target.to_uppercase().replace('-', "_");
    for variable in [
        "NETDECK_PLAIN_LINK".to_string(),
        "RUSTC_LINKER".to_string(),
        "RUSTFLAGS".to_string(),
        "CARGO_ENCODED_RUSTFLAGS".to_string(),
        "CARGO_BUILD_RUSTFLAGS".to_string(),
        format!("CARGO_TARGET_{triple}_LINKER"),
        format!("CARGO_TARGET_{triple}_RUSTFLAGS"),
    ] {
        println!("cargo:rerun-if-env-changed={variable}");
    }
    if env::var_os("NETDECK_PLAIN_LINK").is_some() {
        return;
    }
    // Asked only when building for this machine: a binary built for another may meet an
    // older linker or libc there.
    if target != env::var("HOST").unwrap_or_default() {
        println!("cargo:warning=building for another machine: linking without the size flags");
        return;
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let source = out.join("link-probe.rs");
    // A pointer in initialised data is what needs a relative relocation.
    let program = "static VALUE: u8 = 0;\nstatic POINTER: &u8 = &VALUE;\n\
                   fn main() { std::process::exit(i32::from(*std::hint::black_box(POINTER))); }\n";
    let written = std::fs::write(&source, program).is_ok();
    let probe = out.join("link-probe");
    let script = out.join("no-unwind-tables.ld");
    let script_flag = format!("-Wl,-T,{}", script.display());
    let mut flags = SMALLER_BINARY.to_vec();
    if std::fs::write(&script, NO_UNWIND_TABLES).is_ok() {
        flags.push((&script_flag, "no unwinding tables"));
    }
    for (flag, what) in flags {
        if written && links_and_runs(&source, &probe, flag, &target) {
            println!("cargo:rustc-link-arg-bins={flag}");
        } else {
            println!("cargo:warning=linking without {what} ({flag}): this linker or libc has none");
        }
    }
    // The functions the window runs from its start until it idles, placed together at the
    // start of the code: the kernel maps code in 64 KiB blocks around each page used, and
    // scattered over the binary they kept four fifths of it resident (docs/design.md).
    let order = Path::new(STARTUP_ORDER);
    println!("cargo:rerun-if-changed={STARTUP_ORDER}");
    if order.exists() {
        let flag = format!(
            "-Wl,--symbol-ordering-file={},--no-warn-symbol-ordering",
            Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join(order)
                .display()
        );
        if written && links_and_runs(&source, &probe, &flag, &target) {
            println!("cargo:rustc-link-arg-bins={flag}");
        } else {
            println!("cargo:warning=linking without the startup order: this linker has none");
        }
    }
}

/// Whether rustc, with the linker and flags this build uses, links `source` into `probe` with
/// `flag`, and the program runs here.
fn links_and_runs(source: &Path, probe: &Path, flag: &str, target: &str) -> bool {
    let mut rustc = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()));
    rustc.args(["--edition=2024", "-Copt-level=1", "--target", target]);
    if let Ok(linker) = env::var("RUSTC_LINKER") {
        rustc.arg(format!("-Clinker={linker}"));
    }
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        rustc.args(flags.split('\x1f').filter(|flag| !flag.is_empty()));
    }
    rustc.arg(format!("-Clink-arg={flag}"));
    let linked = run(rustc.arg("-o").arg(probe).arg(source));
    linked && run(&mut Command::new(probe))
}

fn run(command: &mut Command) -> bool {
    command.output().is_ok_and(|output| output.status.success())
}
