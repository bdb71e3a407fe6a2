//! An empty Slint window, built as netdeck's window is (the same Slint features, renderer and
//! release profile): the floor `bench/footprint.sh` measures netdeck's window against.

slint::slint! {
    export component EmptyWindow inherits Window {
        title: "empty Slint window";
        preferred-width: 800px;
        preferred-height: 480px;
    }
}

fn main() -> Result<(), slint::PlatformError> {
    EmptyWindow::new()?.run()
}
