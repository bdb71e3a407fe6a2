//! A real X display for the real window: Xvfb, with its screen readable as pixels.

use std::io::BufRead;
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::{PATIENCE, TempDir};

/// An Xvfb server on a display number it picked itself, with its screen kept in a file.
pub struct Xvfb {
    child: Child,
    pub display: String,
    screen: PathBuf,
    _dir: TempDir,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Self {
        let dir = TempDir::new("xvfb");
        let mut fds = [0; 2];
        // SAFETY: a pipe whose write end Xvfb inherits (no close-on-exec) to tell its display.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
        let child = Command::new("Xvfb")
            .args([
                "-displayfd",
                &fds[1].to_string(),
                "-nolisten",
                "tcp",
                // Root window properties (an announced accessibility bus) outlive their client.
                "-noreset",
                "-screen",
                "0",
            ])
            .arg(format!("{width}x{height}x24"))
            .arg("-fbdir")
            .arg(&dir.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (apt-get install xvfb)");
        // SAFETY: both ends are ours; the write end is closed here, Xvfb has its own.
        let told = unsafe {
            libc::close(fds[1]);
            std::fs::File::from_raw_fd(fds[0])
        };
        // One line: a process started meanwhile by another test may hold the write end too,
        // so its end of file could be far off.
        let mut number = String::new();
        std::io::BufReader::new(told)
            .read_line(&mut number)
            .expect("Xvfb tells its display");
        let number = number.trim().to_string();
        assert!(!number.is_empty(), "Xvfb did not start");
        Xvfb {
            child,
            display: format!(":{number}"),
            screen: dir.join("Xvfb_screen0"),
            _dir: dir,
        }
    }

    /// The screen as it is now.
    pub fn screen(&self) -> Screen {
        Screen::from_xwd(&std::fs::read(&self.screen).expect("Xvfb's screen file"))
    }

    /// Waits until `check` holds for the screen, while `running` still runs.
    pub fn wait_for_screen(
        &self,
        running: &mut Child,
        what: &str,
        check: impl Fn(&Screen) -> bool,
    ) {
        wait_for_screen_file(&self.screen, running, what, check);
    }
}

/// Waits until `check` holds for the screen an Xvfb keeps in `file` (`-fbdir`), while
/// `running` still runs. The screen is a file with no change events, so it is read again every
/// 50 ms until the deadline.
pub fn wait_for_screen_file(
    file: &std::path::Path,
    running: &mut Child,
    what: &str,
    check: impl Fn(&Screen) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(bytes) = std::fs::read(file)
            && check(&Screen::from_xwd(&bytes))
        {
            return;
        }
        if let Some(status) = running.try_wait().unwrap() {
            panic!("the window exited ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pixels as 0xRRGGBB, row by row.
pub struct Screen {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u32>,
}

impl Screen {
    /// An XWD image as Xvfb keeps it: 32 bits per pixel, least significant byte first.
    fn from_xwd(bytes: &[u8]) -> Self {
        let field = |i: usize| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
        let (header, width, height) = (field(0) as usize, field(4) as usize, field(5) as usize);
        let (bits_per_pixel, bytes_per_line, colours) =
            (field(11), field(12) as usize, field(19) as usize);
        assert_eq!(bits_per_pixel, 32, "Xvfb's screen is 32 bits per pixel");
        let start = header + colours * 12;
        let mut pixels = Vec::with_capacity(width * height);
        for row in 0..height {
            let line = &bytes[start + row * bytes_per_line..];
            for x in 0..width {
                let p = &line[x * 4..x * 4 + 4];
                pixels.push(u32::from_le_bytes([p[0], p[1], p[2], 0]));
            }
        }
        Screen {
            width,
            height,
            pixels,
        }
    }

    /// Writes the screen as a PNG picture.
    pub fn save_png(&self, path: &std::path::Path) {
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut encoder = png::Encoder::new(file, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let rgb: Vec<u8> = (self.pixels.iter())
            .flat_map(|p| [(p >> 16) as u8, (p >> 8) as u8, *p as u8])
            .collect();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&rgb).unwrap();
    }

    pub fn pixel(&self, x: usize, y: usize) -> u32 {
        self.pixels[y * self.width + x]
    }

    /// How many different colours the rectangle holds: flat panels have a few, text drawn
    /// with anti-aliasing has dozens.
    pub fn colours_in(&self, x: usize, y: usize, width: usize, height: usize) -> usize {
        let mut seen = std::collections::HashSet::new();
        for row in y..(y + height).min(self.height) {
            for col in x..(x + width).min(self.width) {
                seen.insert(self.pixels[row * self.width + col]);
            }
        }
        seen.len()
    }
}
