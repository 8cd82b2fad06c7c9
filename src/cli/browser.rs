//! Opening a page in the user's browser, for the commands that hand the user a URL (`login`
//! now, `open` later). Opening is a convenience: the commands print the URL as well, and a
//! browser that cannot be started is not an error.
//!
//! `TANDEM_NO_BROWSER=1` opens nothing (tests set it, and so can a user who prefers to copy the
//! URL); the `BROWSER` variable names the browser to use, as on any Unix.

/// Open `url` in the user's browser; whether one was started.
pub fn open(url: &str) -> bool {
    if std::env::var_os("TANDEM_NO_BROWSER").is_some_and(|v| !v.is_empty() && v != "0") {
        return false;
    }
    if !has_display() {
        return false;
    }
    webbrowser::open(url).is_ok()
}

/// Whether a browser could show a page here. On Linux and the BSDs, without a graphical session
/// (ssh, a console) and no `BROWSER` named, the fallbacks could start a text browser that takes
/// over the terminal the user is reading the URL in.
fn has_display() -> bool {
    if cfg!(any(target_os = "macos", windows)) {
        return true;
    }
    ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}
